// A work queue of keys, after client-go's util/workqueue (rate-limiting, delaying, de-duplicating):
// - a key waits at most once, however often it is added;
// - a key is never handed to two workers at once: added while being processed, it is marked dirty and
//   handed out again after done();
// - addAfter: the soonest request for a key wins — a sooner one replaces a later timer, a later one never
//   postpones a sooner one, and add() (now) cancels any pending timer;
// - addRateLimited/forget: per-key exponential backoff;
// - addUrgent: ready now, ahead of every key added with add() (a token in hand waits for no burst);
// - shutDown() stops handing out keys; drain() waits for in-flight keys up to a deadline.
import type { Clock, TimerHandle } from '../clock.ts';
import type { KeyedBackoff } from './rate-limiter.ts';

/** Metrics hooks (client-go's workqueue metrics), with no metrics library behind them. */
export interface WorkQueueObserver {
  /** A key was added (whether or not it was already waiting). */
  added?(key: string): void;
  /** The number of keys ready and waiting for a worker changed. */
  depth?(depth: number): void;
  /** A key was handed to a worker this long after it became ready. */
  waited?(ms: number): void;
  /** A worker finished a key after this long. */
  worked?(ms: number): void;
  /** A key failed and will be retried after delayMs. */
  retried?(key: string, delayMs: number): void;
}

export interface WorkQueueOptions {
  clock: Clock;
  backoff: KeyedBackoff;
  observer?: WorkQueueObserver;
}

interface Delayed {
  at: number;
  timer: TimerHandle;
}

/** A FIFO with O(1) push and shift (Array#shift is linear on large arrays). */
class Fifo {
  #items: (string | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: string): void {
    this.#items.push(item);
  }

  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: KeyedBackoff;
  readonly #observer: WorkQueueObserver;
  readonly #ready = new Fifo();
  /** Ready keys handed out before #ready's. A key moved here leaves a stale entry there, skipped. */
  readonly #urgent = new Fifo();
  /** Ready keys and when they became ready (the de-duplication set): the queue's true depth. */
  readonly #queued = new Map<string, number>();
  /** Keys being processed and since when. */
  readonly #processing = new Map<string, number>();
  /** Keys added while being processed: ready again on done(). */
  readonly #dirty = new Set<string>();
  /** Of those, the ones added with addUrgent: urgent again on done(). */
  readonly #dirtyUrgent = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #dispatchScheduled = false;

  constructor(options: WorkQueueOptions) {
    this.#clock = options.clock;
    this.#backoff = options.backoff;
    this.#observer = options.observer ?? {};
  }

  /** Makes key ready now (cancelling any pending delayed add: now is sooner). */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#observer.added?.(key);
    this.#cancelDelayed(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.set(key, this.#clock.now());
    this.#ready.push(key);
    this.#observer.depth?.(this.#queued.size);
    this.#scheduleDispatch();
  }

  /**
   * Makes key ready now, ahead of the keys added with add() (in the order of urgent adds). A key being
   * processed is re-run right after, as with add(); a key already waiting moves to the front.
   */
  addUrgent(key: string): void {
    if (this.#shuttingDown) return;
    this.#observer.added?.(key);
    this.#cancelDelayed(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      this.#dirtyUrgent.add(key);
      return;
    }
    if (!this.#queued.has(key)) this.#queued.set(key, this.#clock.now());
    this.#urgent.push(key);
    this.#observer.depth?.(this.#queued.size);
    this.#scheduleDispatch();
  }

  /** Makes key ready after ms, unless it is already due sooner: a later request never postpones. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    // Already due now: waiting, or re-run right after the current attempt.
    if (this.#queued.has(key) || this.#dirty.has(key)) return;
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing !== undefined && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.#clock.setTimer(ms, () => {
      if (this.#delayed.get(key)?.timer !== timer) return;
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { at, timer });
  }

  /** Counts a failure of key and adds it after its backoff (at least atLeastMs); returns the delay. */
  addRateLimited(key: string, atLeastMs = 0): number {
    const delay = this.#backoff.next(key, atLeastMs);
    this.#observer.retried?.(key, delay);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets key's failure count (after a success). Does not cancel a pending delayed add. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Consecutive failures of key since it last succeeded. */
  numRequeues(key: string): number {
    return this.#backoff.failures(key);
  }

  /** Drops a pending delayed add of key (e.g. after a terminal error). */
  cancelDelayed(key: string): void {
    this.#cancelDelayed(key);
  }

  /** When key is next due from a delayed add, if it has one. */
  dueAt(key: string): number | undefined {
    return this.#delayed.get(key)?.at;
  }

  /** The next ready key, waiting for one; undefined once shut down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#next();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks key processed; if it was added meanwhile, it is ready again. */
  done(key: string): void {
    const since = this.#processing.get(key);
    if (since === undefined) return;
    this.#processing.delete(key);
    this.#observer.worked?.(this.#clock.now() - since);
    if (this.#dirty.delete(key)) {
      if (this.#dirtyUrgent.delete(key)) this.addUrgent(key);
      else this.add(key);
    }
    if (this.#processing.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Stops handing out keys: waiting get() calls resolve undefined; pending timers are cancelled. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Resolves true once no key is being processed, or false when deadlineMs passes first. */
  drain(deadlineMs: number): Promise<boolean> {
    if (this.#processing.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onIdle = () => {
        timer.cancel();
        resolve(true);
      };
      const timer = this.#clock.setTimer(deadlineMs, () => {
        const index = this.#idleWaiters.indexOf(onIdle);
        if (index >= 0) this.#idleWaiters.splice(index, 1);
        resolve(false);
      });
      this.#idleWaiters.push(onIdle);
    });
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys ready and waiting for a worker. */
  get depth(): number {
    return this.#queued.size;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  get processingCount(): number {
    return this.#processing.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  /** Keys being processed. */
  processingKeys(): string[] {
    return [...this.#processing.keys()];
  }

  /** Since when the longest-running key has been processed (liveness: a stuck worker), if any. */
  oldestProcessingSince(): number | undefined {
    let oldest: number | undefined;
    for (const since of this.#processing.values()) if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }

  /**
   * Hands ready keys to waiting workers on the next microtask, not inside add(): adds made in one
   * synchronous run (an old and a new mapping of one event) then coalesce instead of the second
   * finding the key already taken and marking it dirty.
   */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled || this.#waiters.length === 0) return;
    this.#dispatchScheduled = true;
    queueMicrotask(() => {
      this.#dispatchScheduled = false;
      while (this.#waiters.length > 0 && !this.#shuttingDown) {
        const key = this.#next();
        if (key === undefined) return;
        this.#waiters.shift()?.(this.#take(key));
      }
    });
  }

  /** The next ready key: urgent ones first; entries of keys no longer waiting (taken) are skipped. */
  #next(): string | undefined {
    for (const fifo of [this.#urgent, this.#ready]) {
      for (let key = fifo.shift(); key !== undefined; key = fifo.shift()) {
        if (this.#queued.has(key)) return key;
      }
    }
    return undefined;
  }

  #take(key: string): string {
    const now = this.#clock.now();
    const readyAt = this.#queued.get(key) ?? now;
    this.#queued.delete(key);
    this.#processing.set(key, now);
    this.#observer.depth?.(this.#queued.size);
    this.#observer.waited?.(now - readyAt);
    return key;
  }

  #cancelDelayed(key: string): void {
    const delayed = this.#delayed.get(key);
    if (delayed === undefined) return;
    delayed.timer.cancel();
    this.#delayed.delete(key);
  }
}
