// A work queue of keys, after client-go's workqueue: a key waits at most once (de-duplication), is
// never handed to two workers at once (a key added while being processed is run again afterwards),
// and can be added later (addAfter) where the soonest request for a key wins.
import type { Clock, TimerHandle } from '../clock.ts';

export interface WorkQueueObserver {
  /** Queue depth (waiting keys) changed. */
  depth?(depth: number): void;
  /** A key was handed to a worker after waiting this long since it was (last) made ready. */
  waited?(ms: number): void;
}

interface Delayed {
  at: number;
  timer: TimerHandle;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #observer: WorkQueueObserver;
  /** Ready keys in FIFO order. */
  readonly #ready: string[] = [];
  /** Ready keys, and when they became ready. */
  readonly #queued = new Map<string, number>();
  readonly #processing = new Set<string>();
  /** Keys added while processing: they are queued again when done. */
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;

  constructor(clock: Clock, observer: WorkQueueObserver = {}) {
    this.#clock = clock;
    this.#observer = observer;
  }

  /** Makes key ready now; cancels a pending delayed add of it (now is sooner). */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#cancelDelayed(key);
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.set(key, this.#clock.now());
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#handOut(key, waiter);
      return;
    }
    this.#ready.push(key);
    this.#observer.depth?.(this.#ready.length);
  }

  /** Makes key ready after ms, unless it is already due sooner (a later request never postpones). */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing !== undefined && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.#clock.setTimer(ms, () => {
      if (this.#delayed.get(key)?.timer === timer) {
        this.#delayed.delete(key);
        this.add(key);
      }
    });
    this.#delayed.set(key, { at, timer });
  }

  /** When key is next due from a delayed add, if it has one (for tests and metrics). */
  dueAt(key: string): number | undefined {
    return this.#delayed.get(key)?.at;
  }

  /** The next ready key, waiting for one; undefined once shut down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#ready.shift();
    if (key !== undefined) {
      this.#observer.depth?.(this.#ready.length);
      return Promise.resolve(this.#take(key));
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks key processed; if it was added meanwhile, it is ready again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Forgets a pending delayed add of key (e.g. the object was deleted). */
  cancel(key: string): void {
    this.#cancelDelayed(key);
  }

  get depth(): number {
    return this.#ready.length;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  /** Stops handing out keys: waiting get() calls resolve undefined; timers are cancelled. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #take(key: string): string {
    const readyAt = this.#queued.get(key) ?? this.#clock.now();
    this.#queued.delete(key);
    this.#processing.add(key);
    this.#observer.waited?.(this.#clock.now() - readyAt);
    return key;
  }

  #handOut(key: string, waiter: (key: string | undefined) => void): void {
    waiter(this.#take(key));
  }

  #cancelDelayed(key: string): void {
    const delayed = this.#delayed.get(key);
    if (delayed === undefined) return;
    delayed.timer.cancel();
    this.#delayed.delete(key);
  }
}
