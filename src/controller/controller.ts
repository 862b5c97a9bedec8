// A controller, after controller-runtime's internal controller: one primary informer feeds keys into a
// work queue; changes to related objects (owned ones, found by ownerReference; referenced ones, found by a
// mapping function that usually reads an index) re-queue the keys that depend on them; N workers run the
// reconciler, never two on one key.
//
// Outcomes: success forgets the key's failures; a requested requeue replaces the backoff (and forgets
// failures); a retryable error is retried after the key's backoff (or its Retry-After, when longer); a
// terminal error is recorded and waits for a change of the object (or of something mapped to it).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { CoffreError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { InformerHandlers } from './informer.ts';
import { KeyedBackoff, type BackoffPolicy } from './rate-limiter.ts';
import type { ReadonlyStore } from './store.ts';
import {
  fromKey,
  groupOf,
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

export interface ControllerObserver {
  /** One reconcile finished: its outcome, duration and (for error/terminal/aborted) the error. */
  reconciled?(
    controller: string,
    key: string,
    outcome: ReconcileOutcome,
    durationMs: number,
    error?: unknown,
  ): void;
  /** The work queue's metrics hooks, per controller. */
  queue?(controller: string): WorkQueueObserver;
}

/** What a controller needs of an informer: its events and its cache. */
export interface EventSource<T> {
  readonly name: string;
  addHandlers(handlers: InformerHandlers<T>): void;
  readonly store: ReadonlyStore<T>;
}

export interface ControllerOptions<T extends KubeObject> {
  name: string;
  informer: EventSource<T>;
  reconciler: Reconciler;
  workers: number;
  backoff: BackoffPolicy;
  /** A reconcile is aborted (its signal fires) after this long; 0: never. */
  reconcileTimeoutMs: number;
  /** At shutdown, after the drain deadline aborted in-flight reconciles, how long to wait for them to settle. */
  abortGraceMs: number;
  /** Whether an update of a primary object needs a reconcile. Default: changedBeyondStatus. */
  shouldReconcileUpdate: (old: T, object: T) => boolean;
  random: () => number;
  clock: Clock;
  logger: Logger;
  observer?: ControllerObserver;
}

/** Which owners an owned object maps to: the primary's group and kind, controller references only by default. */
export interface OwnerSelector {
  /** API group of the owner ('' for core), e.g. "coffre.dev". */
  group: string;
  kind: string;
  /** Only the managing controller's reference (ownerReferences[].controller = true). Default true. */
  controllerOnly?: boolean;
}

export interface StopReport {
  /** Every in-flight reconcile, and the reconciler's own work (drain), finished within the deadline. */
  drained: boolean;
  /** Keys whose reconciles were still running after the abort grace (left behind). */
  abandoned: string[];
}

/**
 * The default update filter: reconcile when the generation, labels, annotations, owner references,
 * finalizers or deletion changed — not when only status did, so a controller that writes status does not
 * trigger itself. Objects without generation (Secrets, ConfigMaps) reconcile on every change.
 */
export function changedBeyondStatus(old: KubeObject, object: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = object.metadata ?? {};
  return (
    a.generation === undefined ||
    a.generation !== b.generation ||
    a.uid !== b.uid ||
    String(a.deletionTimestamp) !== String(b.deletionTimestamp) ||
    !sameRecord(a.labels, b.labels) ||
    !sameRecord(a.annotations, b.annotations) ||
    JSON.stringify(a.ownerReferences ?? []) !== JSON.stringify(b.ownerReferences ?? []) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}

function sameRecord(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Maps an owned object to its owners matching `owner` (same namespace, as ownerReferences require). */
export function ownersOf(owner: OwnerSelector): (object: KubeObject) => ObjectKey[] {
  const controllerOnly = owner.controllerOnly ?? true;
  return (object) =>
    (object.metadata?.ownerReferences ?? [])
      .filter(
        (ref) =>
          ref.kind === owner.kind &&
          groupOf(ref.apiVersion) === owner.group &&
          (!controllerOnly || ref.controller === true),
      )
      .map((ref) => ({ namespace: object.metadata?.namespace ?? '', name: ref.name }));
}

export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions<T>;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];
  #stopping: Promise<StopReport> | undefined;

  constructor(options: ControllerOptions<T>) {
    this.#options = options;
    this.name = options.name;
    this.queue = new WorkQueue({
      clock: options.clock,
      backoff: new KeyedBackoff(options.backoff, options.random),
      ...(options.observer?.queue === undefined ? {} : { observer: options.observer.queue(options.name) }),
    });
    const shouldReconcile = options.shouldReconcileUpdate;
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

  /**
   * Re-queues the keys `map` returns whenever a related object changes (before and after the change).
   * `claim`: takes an add or update event away from the queue — this process's own write coming back,
   * which the reconcile that wrote it has already acted on — and calls `release` if it turns out to be
   * something else (an update still re-queues at once what only the previous version mapped to).
   * Deletions always queue.
   */
  watches<R extends KubeObject>(
    informer: EventSource<R>,
    map: (object: R) => readonly ObjectKey[],
    options: { claim?: (object: R, release: () => void) => boolean } = {},
  ): this {
    const keysOf = (object: R): readonly string[] => {
      try {
        return map(object).map(toKey);
      } catch (error) {
        this.#options.logger.error(
          { controller: this.name, informer: informer.name, err: describe(error) },
          'mapping a related object failed',
        );
        return [];
      }
    };
    const enqueue = (object: R) => {
      for (const key of keysOf(object)) this.queue.add(key);
    };
    const claim = options.claim ?? (() => false);
    informer.addHandlers({
      onAdd: (object) => {
        const queue = () => {
          enqueue(object);
        };
        if (!claim(object, queue)) queue();
      },
      onUpdate: (old, object) => {
        if (old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
        // A reference may have moved: both the old and the new dependents must look again.
        const both = () => {
          enqueue(old);
          enqueue(object);
        };
        if (!claim(object, both)) {
          both();
          return;
        }
        const now = new Set(keysOf(object));
        for (const key of keysOf(old)) if (!now.has(key)) this.queue.add(key);
      },
      onDelete: enqueue,
    });
    return this;
  }

  /** Re-queues the owner (of the primary kind) whenever an object it owns changes. */
  owns<R extends KubeObject>(
    informer: EventSource<R>,
    owner: OwnerSelector,
    options: { claim?: (object: R, release: () => void) => boolean } = {},
  ): this {
    return this.watches(informer, ownersOf(owner), options);
  }

  /**
   * Queues a key now (e.g. from a webhook or a test). `urgent`: ahead of the keys the watches queued
   * (a result in hand, such as a token that arrived, should not wait behind a burst of new objects).
   */
  enqueue(key: ObjectKey, options: { urgent?: boolean } = {}): void {
    if (options.urgent === true) this.queue.addUrgent(toKey(key));
    else this.queue.add(toKey(key));
  }

  /** Starts the workers. Keys of cached objects are already queued by the informer's add events. */
  start(): void {
    if (this.#workers.length > 0 || this.#abort.signal.aborted) return;
    for (let i = 0; i < this.#options.workers; i++) this.#workers.push(this.#work());
  }

  get started(): boolean {
    return this.#workers.length > 0;
  }

  /**
   * Graceful stop: takes no new work, lets in-flight reconciles finish until graceMs, then aborts them
   * (their signal fires) and waits at most abortGraceMs more. Idempotent.
   */
  stop(graceMs: number): Promise<StopReport> {
    this.#stopping ??= (async () => {
      const deadline = this.#options.clock.now() + graceMs;
      this.queue.shutDown();
      let drained = await this.queue.drain(graceMs);
      if (drained && this.#options.reconciler.drain !== undefined) {
        // E.g. a refresh token rotated on the wire: its answer must be written before the process goes.
        drained = await this.#options.reconciler.drain(Math.max(0, deadline - this.#options.clock.now()));
      }
      if (!drained) {
        this.#abort.abort(
          new CoffreError('shutdown_deadline', 'shutdown deadline passed', { retryable: true }),
        );
        await this.queue.drain(this.#options.abortGraceMs);
      }
      this.#abort.abort(new CoffreError('controller_stopped', 'controller stopped', { retryable: true }));
      return { drained, abandoned: this.queue.processingKeys() };
    })();
    return this.#stopping;
  }

  /** Stops at once (lost leadership): in-flight reconciles are aborted, no new work is taken. */
  abort(reason: string): void {
    this.queue.shutDown();
    this.#abort.abort(new CoffreError('controller_aborted', reason, { retryable: true }));
  }

  /** Since when the longest-running in-flight reconcile has run, if any (liveness: a stuck worker). */
  oldestInFlightSince(): number | undefined {
    return this.queue.oldestProcessingSince();
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
    const { clock, logger, observer, reconciler, reconcileTimeoutMs } = this.#options;
    const started = clock.now();
    const request = fromKey(key);
    const log = logger.child({
      controller: this.name,
      namespace: request.namespace,
      name: request.name,
      reconcileId: randomUUID().slice(0, 8),
    });
    const attempt = new AbortController();
    const onAbort = () => {
      attempt.abort(this.#abort.signal.reason);
    };
    if (this.#abort.signal.aborted) onAbort();
    else this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    const timeout =
      reconcileTimeoutMs > 0
        ? clock.setTimer(reconcileTimeoutMs, () => {
            attempt.abort(
              new CoffreError('reconcile_timeout', `reconcile exceeded ${reconcileTimeoutMs} ms`, {
                retryable: true,
              }),
            );
          })
        : undefined;
    const report = (outcome: ReconcileOutcome, error?: unknown) => {
      observer?.reconciled?.(this.name, key, outcome, clock.now() - started, error);
    };
    try {
      const result = await reconciler.reconcile(request, { signal: attempt.signal, logger: log });
      this.queue.forget(key);
      const requeueAfter = result?.requeueAfterMs;
      if (requeueAfter !== undefined && Number.isFinite(requeueAfter)) {
        this.queue.addAfter(key, Math.max(0, requeueAfter));
        report('requeue');
      } else {
        report('success');
      }
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Stopping: the key is not retried here; the next leader (or start) reconciles it again.
        report('aborted', error);
        return;
      }
      if (isTerminal(error)) {
        this.queue.forget(key);
        this.queue.cancelDelayed(key);
        log.warn({ err: describe(error) }, 'reconcile failed terminally; waiting for a change');
        report('terminal', error);
        return;
      }
      const delay = this.queue.addRateLimited(key, retryAfterOf(error) ?? 0);
      log.warn({ err: describe(error), retryInMs: delay }, 'reconcile failed; retrying');
      report('error', error);
    } finally {
      timeout?.cancel();
      this.#abort.signal.removeEventListener('abort', onAbort);
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = error instanceof CoffreError ? ` [${error.code}]` : '';
  return `${error.name}${code}: ${error.message}`;
}
