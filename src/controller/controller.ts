// A controller: one primary informer feeds keys into a work queue; related objects (owned Secrets,
// referenced Secrets and OAuthClients) are mapped to the keys that depend on them; N workers run the
// reconciler, never two on one key. Errors are retried per key with backoff; a terminal error waits
// for a change; a requested requeue replaces the backoff.
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { InformerHandlers } from './informer.ts';
import { KeyBackoff } from './rate-limiter.ts';
import {
  fromKey,
  isTerminal,
  objectKey,
  retryAfterOf,
  toKey,
  type KubeObject,
  type ObjectKey,
  type Reconciler,
} from './types.ts';
import { WorkQueue, type WorkQueueObserver } from './work-queue.ts';

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal' | 'aborted';

export interface ControllerObserver extends WorkQueueObserver {
  reconciled?(
    controller: string,
    key: string,
    outcome: ReconcileOutcome,
    durationMs: number,
    error?: unknown,
  ): void;
  retry?(controller: string, key: string, delayMs: number): void;
}

/** What a controller needs of an informer: its events, and the keys it holds. */
export interface EventSource<T> {
  addHandlers(handlers: InformerHandlers<T>): void;
  store: { keys(): string[] };
}

export interface ControllerOptions<T extends KubeObject> {
  name: string;
  informer: EventSource<T>;
  reconciler: Reconciler;
  workers: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  random: () => number;
  clock: Clock;
  logger: Logger;
  observer?: ControllerObserver;
  /** Whether an update of a primary object needs a reconcile. Default: changedBeyondStatus. */
  shouldReconcileUpdate?: (old: T, object: T) => boolean;
}

/**
 * The default update filter: reconcile when the generation, labels, annotations, owner references or
 * deletion changed — not when only status (or resourceVersion) did, so writing status never
 * triggers the controller that wrote it.
 */
export function changedBeyondStatus(old: KubeObject, object: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = object.metadata ?? {};
  return (
    a.generation !== b.generation ||
    a.generation === undefined ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {}) ||
    JSON.stringify(a.ownerReferences ?? []) !== JSON.stringify(b.ownerReferences ?? []) ||
    a.deletionTimestamp !== b.deletionTimestamp
  );
}

export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions<T>;
  readonly #backoff: KeyBackoff;
  readonly #abort = new AbortController();
  readonly #inFlight = new Map<string, { since: number; done: Promise<void> }>();
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions<T>) {
    this.#options = options;
    this.name = options.name;
    this.queue = new WorkQueue(options.clock, options.observer ?? {});
    this.#backoff = new KeyBackoff({
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      random: options.random,
    });
    const shouldReconcile = options.shouldReconcileUpdate ?? changedBeyondStatus;
    options.informer.addHandlers({
      onAdd: (object) => {
        this.queue.add(objectKey(object));
      },
      onUpdate: (old, object) => {
        if (shouldReconcile(old, object)) this.queue.add(objectKey(object));
      },
      onDelete: (object) => {
        this.queue.add(objectKey(object));
      },
    });
  }

  /** Re-queues the keys `map` returns whenever a related object changes. */
  watchRelated<R extends KubeObject>(
    informer: EventSource<R>,
    map: (object: R) => readonly ObjectKey[],
  ): void {
    const enqueue = (object: R) => {
      for (const key of map(object)) this.queue.add(toKey(key));
    };
    informer.addHandlers({
      onAdd: enqueue,
      onUpdate: (old, object) => {
        if (old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
        enqueue(old);
        enqueue(object);
      },
      onDelete: enqueue,
    });
  }

  /** Maps owned objects (by their controller ownerReference of `kind`) to their owner's key. */
  static ownerMapper(kind: string): (object: KubeObject) => ObjectKey[] {
    return (object) => {
      const owner = object.metadata?.ownerReferences?.find(
        (ref) => ref.controller === true && ref.kind === kind,
      );
      return owner === undefined ? [] : [{ namespace: object.metadata?.namespace ?? '', name: owner.name }];
    };
  }

  enqueue(key: ObjectKey): void {
    this.queue.add(toKey(key));
  }

  /** Starts the workers; the keys already cached are queued by the informer's add events. */
  start(): void {
    if (this.#workers.length > 0) return;
    for (const key of this.#options.informer.store.keys()) this.queue.add(key);
    for (let i = 0; i < this.#options.workers; i++) this.#workers.push(this.#work());
  }

  /** Stops taking work; waits up to graceMs for in-flight reconciles, then aborts them. */
  async stop(graceMs: number): Promise<void> {
    this.queue.shutDown();
    const all = Promise.all(this.#workers);
    const timer = this.#options.clock.setTimer(graceMs, () => {
      this.#abort.abort(new Error('shutdown deadline passed'));
    });
    await all;
    timer.cancel();
    this.#abort.abort(new Error('controller stopped'));
  }

  /** Aborts in-flight reconciles at once (lost leadership). */
  abort(): void {
    this.#abort.abort(new Error('leadership lost'));
    this.queue.shutDown();
  }

  /** Start time of the longest-running in-flight reconcile, if any (liveness: a stuck worker). */
  oldestInFlightSince(): number | undefined {
    let oldest: number | undefined;
    for (const { since } of this.#inFlight.values())
      if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const { clock, logger, observer, reconciler } = this.#options;
    const started = clock.now();
    let finish: () => void = () => undefined;
    this.#inFlight.set(key, { since: started, done: new Promise<void>((resolve) => (finish = resolve)) });
    const request = fromKey(key);
    const log = logger.child({ controller: this.name, namespace: request.namespace, name: request.name });
    try {
      const result = await reconciler.reconcile(request, {
        signal: this.#abort.signal,
        logger: log,
        retries: this.#backoff.failures(key),
      });
      this.#backoff.forget(key);
      const requeueAfter = result?.requeueAfterMs;
      if (requeueAfter !== undefined && requeueAfter >= 0) this.queue.addAfter(key, requeueAfter);
      observer?.reconciled?.(
        this.name,
        key,
        requeueAfter === undefined ? 'success' : 'requeue',
        clock.now() - started,
      );
    } catch (error) {
      const duration = clock.now() - started;
      if (this.#abort.signal.aborted) {
        observer?.reconciled?.(this.name, key, 'aborted', duration, error);
        return;
      }
      if (isTerminal(error)) {
        this.#backoff.forget(key);
        log.warn({ err: describe(error) }, 'reconcile failed terminally; waiting for a change');
        observer?.reconciled?.(this.name, key, 'terminal', duration, error);
        return;
      }
      const delay = this.#backoff.next(key, retryAfterOf(error) ?? 0);
      log.warn({ err: describe(error), retryInMs: delay }, 'reconcile failed; retrying');
      observer?.reconciled?.(this.name, key, 'error', duration, error);
      observer?.retry?.(this.name, key, delay);
      this.queue.addAfter(key, delay);
    } finally {
      this.#inFlight.delete(key);
      finish();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
