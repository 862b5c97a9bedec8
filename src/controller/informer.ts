// An informer, after client-go's reflector: list (paginated), then watch from the list's
// resourceVersion with bookmarks; a 410 Gone relists and reports exactly what changed meanwhile;
// other failures reconnect with capped exponential backoff. Optionally metadata-only (PartialObjectMetadata)
// and transformed before caching, so that watching every Secret of a cluster costs a few hundred bytes
// per Secret and never holds their data.
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import { CoffreError } from '../errors.ts';
import { kubeApiErrorFrom, type KubeHttp } from './kube-http.ts';
import { KeyBackoff } from './rate-limiter.ts';
import { Store } from './store.ts';
import { objectKey, type KubeObject } from './types.ts';

export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
}

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  onDelete?(object: T): void;
}

export interface InformerObserver {
  /** A relist happened: why ('initial', 'expired', 'error') and how many objects it returned. */
  relisted?(informer: string, reason: string, objects: number): void;
  watchError?(informer: string): void;
}

export interface InformerOptions<T extends KubeObject> {
  name: string;
  http: KubeHttp;
  resource: ResourceRef;
  /** Watch one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask the API server for PartialObjectMetadata: no spec, no data. */
  metadataOnly?: boolean;
  /** Applied to every object before it is cached and handed to handlers (e.g. drop managedFields). */
  transform?: (object: T) => T;
  pageSize: number;
  /** Server-side watch timeout; each watch picks a value between this and twice this. */
  watchTimeoutSeconds: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  random: () => number;
  clock: Clock;
  logger: Logger;
  observer?: InformerObserver;
}

const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_OBJECT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

class ResourceExpired extends CoffreError {
  constructor() {
    super('resource_expired', 'the watch resourceVersion is too old (410 Gone); relisting', {
      retryable: true,
    });
  }
}

interface ListPage<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; reason?: string; message?: string };
}

export function collectionPath(resource: ResourceRef, namespace?: string): string {
  const base =
    resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return namespace === undefined
    ? `${base}/${resource.plural}`
    : `${base}/namespaces/${namespace}/${resource.plural}`;
}

/** Removes managedFields, which can be larger than the rest of the metadata and is never read. */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

export class Informer<T extends KubeObject> {
  readonly store = new Store<T>();
  readonly name: string;
  readonly #options: InformerOptions<T>;
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #backoff: KeyBackoff;
  readonly #abort = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #running: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.name = options.name;
    this.#backoff = new KeyBackoff({
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      random: options.random,
    });
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the cache is at (from the last list, event or bookmark). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener(
        'abort',
        () => {
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error('informer stopped'));
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let listReason: string | undefined = 'initial';
    while (!signal.aborted) {
      try {
        if (listReason !== undefined) {
          await this.#list(listReason);
          listReason = undefined;
        }
        await this.#watch();
        this.#backoff.forget('watch');
      } catch (error) {
        if (this.#isStopped()) break;
        if (error instanceof ResourceExpired) {
          this.#options.logger.info({ informer: this.name }, 'watch expired (410 Gone): relisting');
          listReason = 'expired';
          continue;
        }
        this.#options.observer?.watchError?.(this.name);
        const delay = this.#backoff.next('watch');
        this.#options.logger.warn(
          { informer: this.name, err: describe(error), retryInMs: delay },
          'list/watch failed; retrying',
        );
        // Past repeated failures a fresh list is the safe way back (events may have been missed).
        if (this.#backoff.failures('watch') > 3) listReason = 'error';
        await this.#options.clock.sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  async #list(reason: string): Promise<void> {
    const { http, resource, namespace, pageSize } = this.#options;
    const path = collectionPath(resource, namespace);
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await http.json<ListPage<T>>(path, {
        query: {
          limit: pageSize,
          continue: continueToken,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
        },
        accept: this.#options.metadataOnly === true ? METADATA_LIST : 'application/json',
        signal: this.#abort.signal,
      });
      for (const item of page.items ?? []) items.push(this.#transform(item));
      continueToken = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken !== undefined);
    const delta = this.store.replace(items);
    this.#resourceVersion = resourceVersion;
    this.#options.observer?.relisted?.(this.name, reason, items.length);
    for (const object of delta.added) this.#emit((h) => h.onAdd?.(object));
    for (const { old, new: object } of delta.updated) this.#emit((h) => h.onUpdate?.(old, object));
    for (const object of delta.deleted) this.#emit((h) => h.onDelete?.(object));
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  async #watch(): Promise<void> {
    const { http, resource, namespace, clock, watchTimeoutSeconds, random } = this.#options;
    const timeoutSeconds = Math.round(watchTimeoutSeconds * (1 + random()));
    const watchAbort = new AbortController();
    const onStop = () => {
      watchAbort.abort(this.#abort.signal.reason);
    };
    this.#abort.signal.addEventListener('abort', onStop, { once: true });
    // A silent connection (no bytes, not even bookmarks) past the server timeout is dead.
    const inactivityMs = (timeoutSeconds + 30) * 1000;
    let inactivity = clock.setTimer(inactivityMs, () => {
      watchAbort.abort(new Error('watch inactive'));
    });
    try {
      const response = await http.send(collectionPath(resource, namespace), {
        query: {
          watch: true,
          allowWatchBookmarks: true,
          resourceVersion: this.#resourceVersion,
          timeoutSeconds,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
        },
        accept: this.#options.metadataOnly === true ? METADATA_OBJECT : 'application/json',
        signal: watchAbort.signal,
      });
      if (response.status === 410) {
        await response.body?.cancel();
        throw new ResourceExpired();
      }
      if (!response.ok || response.body === null) throw await kubeApiErrorFrom(response);
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body) {
        inactivity.cancel();
        inactivity = clock.setTimer(inactivityMs, () => {
          watchAbort.abort(new Error('watch inactive'));
        });
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') this.#handleEvent(JSON.parse(line) as WatchEvent<T>);
          newline = buffered.indexOf('\n');
        }
      }
    } finally {
      inactivity.cancel();
      this.#abort.signal.removeEventListener('abort', onStop);
    }
  }

  #handleEvent(event: WatchEvent<T>): void {
    switch (event.type) {
      case 'BOOKMARK':
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
        return;
      case 'ERROR':
        if (event.object.code === 410) throw new ResourceExpired();
        throw new CoffreError(
          'watch_error',
          `watch error ${String(event.object.code)} ${event.object.reason ?? ''}: ${event.object.message ?? ''}`,
          { retryable: true },
        );
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform(event.object);
        const previous = this.store.upsert(object);
        this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
        if (previous === undefined) this.#emit((h) => h.onAdd?.(object));
        else this.#emit((h) => h.onUpdate?.(previous, object));
        return;
      }
      case 'DELETED': {
        const object = this.#transform(event.object);
        const removed = this.store.remove(objectKey(object));
        this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
        this.#emit((h) => h.onDelete?.(removed ?? object));
        return;
      }
    }
  }

  #isStopped(): boolean {
    return this.#abort.signal.aborted;
  }

  #transform(object: T): T {
    return this.#options.transform === undefined ? object : this.#options.transform(object);
  }

  #emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.#handlers) {
      try {
        call(handlers);
      } catch (error) {
        this.#options.logger.error({ informer: this.name, err: describe(error) }, 'event handler failed');
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
