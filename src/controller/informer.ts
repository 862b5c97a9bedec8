// An informer, after client-go's reflector + shared informer: list (paginated), then watch from the
// list's resourceVersion with bookmarks, resuming from the last seen resourceVersion after every
// disconnect. A 410 Gone (HTTP status or ERROR event) relists and hands the handlers exactly the changes
// they missed (relistDelta): nothing lost, nothing twice. Other failures reconnect with capped
// exponential backoff. One reflector per watched namespace (or one for all) feeds one indexed store.
//
// Metadata-only mode asks the API server for PartialObjectMetadata (Accept header) and, as a second
// guard, keeps only apiVersion/kind/metadata of whatever arrives: watching every Secret of a cluster then
// costs a few hundred bytes per Secret and never holds their data.
import type { Clock } from '../clock.ts';
import { CoffreError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { isKubeApiError, kubeApiErrorFrom, type KubeHttp } from './kube-http.ts';
import { KeyedBackoff, type BackoffPolicy } from './rate-limiter.ts';
import { relistDelta, Store, type IndexFunction, type ReadonlyStore, type StoreDelta } from './store.ts';
import { toMetadataOnly } from './transforms.ts';
import { objectKey, type KubeObject } from './types.ts';

export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The resource's plural name, as in its URL: "secrets", "vaultconnections". */
  plural: string;
}

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  onDelete?(object: T): void;
}

/** Why a full list ran: the first one, or a relist after 410 Gone (reconnects resume instead). */
export type ListReason = 'initial' | 'expired';

export interface InformerObserver {
  /** A full list completed: why, how many objects, how long it took. */
  listed?(informer: string, reason: ListReason, objects: number, durationMs: number): void;
  /** A list or watch failed and will be retried after delayMs. */
  watchError?(informer: string, error: unknown, delayMs: number): void;
  /** A watch event was applied. */
  event?(informer: string, type: WatchEventType): void;
}

export interface InformerOptions<T extends KubeObject> {
  name: string;
  http: KubeHttp;
  resource: ResourceRef;
  /** Namespaces to watch; empty: all namespaces (or a cluster-scoped resource). */
  namespaces: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask for PartialObjectMetadata: objects carry metadata only, no spec, status or data. */
  metadataOnly: boolean;
  /** Applied to every object before it is cached and handed to handlers (default: drop managedFields). */
  transform: (object: T) => T;
  pageSize: number;
  /** Deadline of each list page request. */
  listTimeoutMs: number;
  /** Server-side watch timeout; each watch picks a value between this and twice this (as client-go). */
  watchTimeoutSeconds: number;
  /** A watch that delivers no byte (not even a bookmark) for this long is considered dead. */
  watchInactivityMs: number;
  backoff: BackoffPolicy;
  random: () => number;
  clock: Clock;
  logger: Logger;
  observer?: InformerObserver;
}

export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const METADATA_OBJECT_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface WatchEvent<T> {
  type: WatchEventType;
  object: T & { code?: number; reason?: string; message?: string };
}

interface ListPage<T> {
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** The cache is older than the API server keeps history for: relist. */
class ResourceExpired extends CoffreError {
  constructor() {
    super('resource_expired', 'the watch resourceVersion is too old (410 Gone); relisting', {
      retryable: true,
    });
  }
}

export function collectionPath(resource: ResourceRef, namespace: string): string {
  const base =
    resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return namespace === ''
    ? `${base}/${resource.plural}`
    : `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
}

export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly #options: InformerOptions<T>;
  readonly #store: Store<T>;
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #reflectors: Reflector<T>[];
  readonly #abort = new AbortController();
  #syncWaiters: (() => void)[] = [];
  #running: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.name = options.name;
    this.#store = new Store<T>({
      onIndexError: (index, error) => {
        options.logger.error(
          { informer: options.name, index, err: describe(error) },
          'index function failed',
        );
      },
    });
    const namespaces = options.namespaces.length === 0 ? [''] : [...new Set(options.namespaces)];
    this.#reflectors = namespaces.map((namespace) => new Reflector(this, namespace, options));
  }

  /** The cache. Objects are shared, not copied: never mutate them. */
  get store(): ReadonlyStore<T> {
    return this.#store;
  }

  /** Adds an index, e.g. "the Secrets a connection references" (values are usually keys). */
  addIndex(name: string, index: IndexFunction<T>): void {
    this.#store.addIndex(name, index);
  }

  /** Registers handlers; objects already cached are handed to onAdd at once (as client-go does). */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
    for (const object of this.#store.list()) this.#call(handlers, (h) => h.onAdd?.(object));
  }

  /** Whether every namespace has been listed once (readiness). */
  hasSynced(): boolean {
    return this.#reflectors.every((reflector) => reflector.synced);
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(signal?.reason as Error);
      };
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The resourceVersion each namespace's cache is at ('' for all namespaces). */
  resourceVersions(): Record<string, string> {
    return Object.fromEntries(this.#reflectors.map((r) => [r.namespace, r.resourceVersion]));
  }

  start(): void {
    this.#running ??= Promise.all(
      this.#reflectors.map((reflector) => reflector.run(this.#abort.signal)),
    ).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.#abort.abort(new CoffreError('informer_stopped', 'informer stopped', { retryable: false }));
    await this.#running;
  }

  // ---- called by the reflectors ----

  /** Replaces one namespace's part of the cache with a fresh list and emits exactly what changed. */
  replaceScope(namespace: string, listed: readonly T[]): StoreDelta<T> {
    const inScope = namespace === '' ? undefined : (o: T) => (o.metadata?.namespace ?? '') === namespace;
    const delta = relistDelta(this.#store.contents, listed, inScope);
    this.#store.apply(delta);
    for (const object of delta.deleted) this.#emit((h) => h.onDelete?.(object));
    for (const object of delta.added) this.#emit((h) => h.onAdd?.(object));
    for (const { old, new: object } of delta.updated) this.#emit((h) => h.onUpdate?.(old, object));
    if (this.hasSynced()) for (const resolve of this.#syncWaiters.splice(0)) resolve();
    return delta;
  }

  upsert(object: T): void {
    const previous = this.#store.upsert(object);
    if (previous === undefined) this.#emit((h) => h.onAdd?.(object));
    else this.#emit((h) => h.onUpdate?.(previous, object));
  }

  remove(object: T): void {
    const removed = this.#store.remove(objectKey(object));
    // The cached state is what handlers last saw; the event's copy is the fallback.
    this.#emit((h) => h.onDelete?.(removed ?? object));
  }

  #emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.#handlers) this.#call(handlers, call);
  }

  #call(handlers: InformerHandlers<T>, call: (handlers: InformerHandlers<T>) => void): void {
    try {
      call(handlers);
    } catch (error) {
      this.#options.logger.error({ informer: this.name, err: describe(error) }, 'event handler failed');
    }
  }
}

/** Lists and watches one namespace (or all) and feeds the informer. */
class Reflector<T extends KubeObject> {
  readonly namespace: string;
  readonly #informer: Informer<T>;
  readonly #options: InformerOptions<T>;
  readonly #backoff: KeyedBackoff;
  readonly #path: string;
  readonly #transform: (object: T) => T;
  resourceVersion = '';
  synced = false;
  #warnedNotMetadata = false;
  /** 410s since the last watch event: more than one in a row backs off. */
  #expiredInARow = 0;

  constructor(informer: Informer<T>, namespace: string, options: InformerOptions<T>) {
    this.#informer = informer;
    this.namespace = namespace;
    this.#options = options;
    this.#backoff = new KeyedBackoff(options.backoff, options.random);
    this.#path = collectionPath(options.resource, namespace);
    this.#transform = options.metadataOnly
      ? (object) => options.transform(toMetadataOnly(this.#checkMetadataOnly(object)))
      : options.transform;
  }

  get #label(): string {
    return this.namespace === '' ? this.#options.name : `${this.#options.name}[${this.namespace}]`;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { logger, clock, observer } = this.#options;
    let listReason: ListReason | undefined = 'initial';
    while (!signal.aborted) {
      try {
        if (listReason !== undefined) {
          await this.#list(listReason, signal);
          listReason = undefined;
        }
        await this.#watch(signal);
      } catch (error) {
        if (isAborted(signal)) break;
        if (error instanceof ResourceExpired) {
          logger.info({ informer: this.#label }, 'watch expired (410 Gone): relisting');
          listReason = 'expired';
          // A fresh list's resourceVersion expiring again at once is not normal: do not spin.
          if (++this.#expiredInARow > 1)
            await clock.sleep(this.#backoff.next('watch'), signal).catch(() => undefined);
          continue;
        }
        const delay = this.#backoff.next('watch');
        observer?.watchError?.(this.#label, error, delay);
        logger.warn(
          { informer: this.#label, err: describe(error), retryInMs: delay },
          'list/watch failed; retrying',
        );
        // Until the first list succeeds there is nothing to resume from.
        if (!this.synced) listReason = 'initial';
        await clock.sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  async #list(reason: ListReason, signal: AbortSignal): Promise<void> {
    const { http, pageSize, listTimeoutMs, clock, metadataOnly, observer } = this.#options;
    const started = clock.now();
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    let restarts = 0;
    do {
      let page: ListPage<T>;
      try {
        page = await http.json<ListPage<T>>(this.#path, {
          query: {
            limit: pageSize,
            continue: continueToken,
            labelSelector: this.#options.labelSelector,
            fieldSelector: this.#options.fieldSelector,
          },
          accept: metadataOnly ? METADATA_LIST_ACCEPT : 'application/json',
          signal,
          timeoutMs: listTimeoutMs,
        });
      } catch (error) {
        // A continue token expires with its snapshot (410): start the list again from a fresh snapshot.
        if (continueToken !== undefined && isKubeApiError(error, 410) && restarts < 3) {
          restarts++;
          items.length = 0;
          continueToken = undefined;
          continue;
        }
        throw error;
      }
      for (const item of page.items ?? []) items.push(this.#transform(item));
      continueToken = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken !== undefined);
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.#informer.replaceScope(this.namespace, items);
    observer?.listed?.(this.#label, reason, items.length, clock.now() - started);
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const { http, clock, watchTimeoutSeconds, watchInactivityMs, random, metadataOnly, observer } =
      this.#options;
    // An abort listener added to an already aborted signal never runs: check first.
    if (signal.aborted) throw signal.reason;
    const timeoutSeconds = Math.round(watchTimeoutSeconds * (1 + random()));
    const watchAbort = new AbortController();
    const onStop = () => {
      watchAbort.abort(signal.reason);
    };
    signal.addEventListener('abort', onStop, { once: true });
    // A connection that stays silent past a bookmark interval or the server's own timeout is dead
    // (half-open, or its peer stuck): reopen from the last resourceVersion.
    const serverBoundMs = (timeoutSeconds + 30) * 1000;
    const inactivityMs = watchInactivityMs > 0 ? Math.min(watchInactivityMs, serverBoundMs) : serverBoundMs;
    const dead = () => {
      watchAbort.abort(
        new CoffreError('watch_inactive', `watch silent for ${inactivityMs} ms`, { retryable: true }),
      );
    };
    let inactivity = clock.setTimer(inactivityMs, dead);
    try {
      const response = await http.send(this.#path, {
        query: {
          watch: true,
          allowWatchBookmarks: true,
          resourceVersion: this.resourceVersion,
          timeoutSeconds,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
        },
        accept: metadataOnly ? METADATA_OBJECT_ACCEPT : 'application/json',
        signal: watchAbort.signal,
      });
      if (response.status === 410) {
        await response.body?.cancel();
        throw new ResourceExpired();
      }
      if (!response.ok || response.body === null) throw await kubeApiErrorFrom(response);
      // Connected: the next failure starts again from the base delay.
      this.#backoff.forget('watch');
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body) {
        inactivity.cancel();
        inactivity = clock.setTimer(inactivityMs, dead);
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        // One event per line; the rest is cut off once per chunk, not once per event.
        let start = 0;
        for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n', start)) {
          const line = buffered.slice(start, newline).trim();
          start = newline + 1;
          if (line !== '') {
            const event = JSON.parse(line) as WatchEvent<T>;
            this.#apply(event);
            observer?.event?.(this.#label, event.type);
          }
        }
        buffered = buffered.slice(start);
      }
      // The server ended the watch (timeoutSeconds): resume from the last resourceVersion.
    } catch (error) {
      if (watchAbort.signal.aborted && !isAborted(signal)) throw watchAbort.signal.reason;
      throw error;
    } finally {
      inactivity.cancel();
      signal.removeEventListener('abort', onStop);
      watchAbort.abort();
    }
  }

  #apply(event: WatchEvent<T>): void {
    if (event.type !== 'ERROR') this.#expiredInARow = 0;
    switch (event.type) {
      case 'BOOKMARK':
        this.resourceVersion = event.object.metadata?.resourceVersion ?? this.resourceVersion;
        return;
      case 'ERROR':
        if (event.object.code === 410) throw new ResourceExpired();
        throw new CoffreError(
          'watch_error',
          `watch error ${String(event.object.code)} ${event.object.reason ?? ''}: ${(event.object.message ?? '').slice(0, 300)}`,
          { retryable: true },
        );
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform(event.object);
        this.#informer.upsert(object);
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        return;
      }
      case 'DELETED': {
        const object = this.#transform(event.object);
        this.#informer.remove(object);
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        return;
      }
    }
  }

  #checkMetadataOnly(object: T): T {
    if (object.kind !== 'PartialObjectMetadata' && !this.#warnedNotMetadata) {
      this.#warnedNotMetadata = true;
      this.#options.logger.warn(
        { informer: this.#label, kind: object.kind },
        'metadata-only informer received full objects; keeping their metadata only',
      );
    }
    return object;
  }
}

/** Read through a call: the signal changes while awaiting, unseen by the type checker's narrowing. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
