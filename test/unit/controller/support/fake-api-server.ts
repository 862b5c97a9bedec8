// An in-memory API server for one namespaced resource, behind the KubeHttp port: resourceVersions,
// paginated lists, watches that replay history from a resourceVersion, bookmarks, compaction (410 Gone,
// as an HTTP status or an ERROR event), and forced disconnects. Enough to test an informer's list/watch
// protocol without a cluster; the integration suite checks the same on a real kube-apiserver.
import { Response } from 'undici';
import type { KubeHttp, KubeRequest } from '../../../../src/controller/kube-http.ts';
import { KubeApiError } from '../../../../src/controller/kube-http.ts';
import type { KubeObject } from '../../../../src/controller/types.ts';

export interface FakeObject extends KubeObject {
  metadata: {
    namespace: string;
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
  };
  data?: Record<string, string>;
}

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeObject;
}

interface Watcher {
  namespace: string;
  metadataOnly: boolean;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const PATH = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/configmaps$/;

export class FakeApiServer {
  rv = 100;
  readonly objects = new Map<string, FakeObject>();
  readonly history: HistoryEntry[] = [];
  /** Watches from a resourceVersion below this answer 410. */
  compactedBelow = 0;
  /** How 410 is reported to a watch: as the HTTP status or as an ERROR event in a 200 stream. */
  goneAs: 'status' | 'event' = 'event';
  /** Make the next N requests fail with 500 (lists and watches). */
  failNext = 0;
  readonly requests: { path: string; query: Record<string, unknown>; accept: string | undefined }[] = [];
  readonly #watchers = new Set<Watcher>();
  #uid = 0;

  get watcherCount(): number {
    return this.#watchers.size;
  }

  create(namespace: string, name: string, data: Record<string, string> = {}): FakeObject {
    const object: FakeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace, name, uid: `uid-${++this.#uid}`, resourceVersion: String(++this.rv) },
      data,
    };
    this.objects.set(`${namespace}/${name}`, object);
    this.#record('ADDED', object);
    return object;
  }

  update(namespace: string, name: string, data: Record<string, string>): FakeObject {
    const previous = this.objects.get(`${namespace}/${name}`);
    if (previous === undefined) throw new Error(`no ${namespace}/${name}`);
    const object: FakeObject = {
      ...previous,
      metadata: { ...previous.metadata, resourceVersion: String(++this.rv) },
      data,
    };
    this.objects.set(`${namespace}/${name}`, object);
    this.#record('MODIFIED', object);
    return object;
  }

  delete(namespace: string, name: string): void {
    const previous = this.objects.get(`${namespace}/${name}`);
    if (previous === undefined) throw new Error(`no ${namespace}/${name}`);
    this.objects.delete(`${namespace}/${name}`);
    const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(++this.rv) } };
    this.#record('DELETED', object);
  }

  /** Forgets history: watches from older resourceVersions get 410. */
  compact(): void {
    this.compactedBelow = this.rv;
    this.history.length = 0;
  }

  /** Ends every open watch, as a server restart or a dropped connection does. */
  disconnectAll(how: 'close' | 'error' = 'close'): void {
    for (const watcher of this.#watchers) {
      if (how === 'close') watcher.controller.close();
      else watcher.controller.error(new Error('connection reset'));
    }
    this.#watchers.clear();
  }

  /** Sends a bookmark at the current resourceVersion to every watch. */
  bookmark(): void {
    for (const watcher of this.#watchers) {
      this.#send(watcher, {
        type: 'BOOKMARK',
        object: { kind: 'ConfigMap', metadata: { resourceVersion: String(this.rv) } },
      });
    }
  }

  /** The server's state, for comparison with an informer's cache. */
  snapshot(namespace?: string): Map<string, string> {
    const result = new Map<string, string>();
    for (const [key, object] of this.objects) {
      if (namespace === undefined || object.metadata.namespace === namespace) {
        result.set(key, object.metadata.resourceVersion);
      }
    }
    return result;
  }

  readonly http: KubeHttp = {
    send: (path, request) => Promise.resolve(this.#handle(path, request ?? {})),
    json: async <T>(path: string, request?: KubeRequest): Promise<T> => {
      const response = this.#handle(path, request ?? {});
      if (!response.ok) {
        const status = (await response.json()) as { reason: string; message: string };
        throw new KubeApiError(response.status, status.reason, status.message);
      }
      return (await response.json()) as T;
    },
    close: () => Promise.resolve(),
  };

  #handle(path: string, request: KubeRequest): Response {
    const match = PATH.exec(path);
    if (match === null) return status(404, 'NotFound', `no route ${path}`);
    const namespace = match[1] ?? '';
    const query = request.query ?? {};
    this.requests.push({ path, query, accept: request.accept });
    if (this.failNext > 0) {
      this.failNext--;
      return status(500, 'InternalError', 'injected failure');
    }
    const metadataOnly = request.accept?.includes('as=PartialObjectMetadata') ?? false;
    if (query.watch === true)
      return this.#watch(namespace, Number(query.resourceVersion), metadataOnly, request.signal);
    return this.#list(namespace, query, metadataOnly);
  }

  #list(namespace: string, query: Record<string, unknown>, metadataOnly: boolean): Response {
    const all = [...this.objects.values()]
      .filter((o) => namespace === '' || o.metadata.namespace === namespace)
      .sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        ),
      );
    const limit = typeof query.limit === 'number' ? query.limit : all.length;
    let offset = 0;
    let rv = this.rv;
    if (typeof query.continue === 'string') {
      const token = JSON.parse(query.continue) as { offset: number; rv: number };
      if (token.rv < this.compactedBelow) return status(410, 'Expired', 'continue token too old');
      offset = token.offset;
      rv = token.rv;
    }
    const items = all.slice(offset, offset + limit).map((o) => (metadataOnly ? partial(o) : o));
    const more = offset + limit < all.length;
    return json(200, {
      kind: metadataOnly ? 'PartialObjectMetadataList' : 'ConfigMapList',
      metadata: {
        resourceVersion: String(rv),
        ...(more ? { continue: JSON.stringify({ offset: offset + limit, rv }) } : {}),
      },
      items,
    });
  }

  #watch(
    namespace: string,
    fromRv: number,
    metadataOnly: boolean,
    signal: AbortSignal | undefined,
  ): Response {
    if (fromRv < this.compactedBelow && this.goneAs === 'status') {
      return status(410, 'Expired', 'too old resource version');
    }
    let watcher: Watcher | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        watcher = { namespace, metadataOnly, controller };
        if (fromRv < this.compactedBelow) {
          this.#send(watcher, {
            type: 'ERROR',
            object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
          });
          controller.close();
          return;
        }
        for (const entry of this.history) {
          if (entry.rv > fromRv && (namespace === '' || entry.object.metadata.namespace === namespace)) {
            this.#send(watcher, { type: entry.type, object: entry.object });
          }
        }
        this.#watchers.add(watcher);
      },
      cancel: () => {
        if (watcher !== undefined) this.#watchers.delete(watcher);
      },
    });
    signal?.addEventListener('abort', () => {
      if (watcher === undefined || !this.#watchers.delete(watcher)) return;
      try {
        watcher.controller.error(signal.reason);
      } catch {
        // already closed
      }
    });
    return new Response(stream, { status: 200 });
  }

  #record(type: HistoryEntry['type'], object: FakeObject): void {
    this.history.push({ rv: this.rv, type, object });
    for (const watcher of this.#watchers) {
      if (watcher.namespace === '' || watcher.namespace === object.metadata.namespace) {
        this.#send(watcher, { type, object });
      }
    }
  }

  #send(watcher: Watcher, event: { type: string; object: KubeObject | Record<string, unknown> }): void {
    const object =
      watcher.metadataOnly && event.type !== 'ERROR' && event.type !== 'BOOKMARK'
        ? partial(event.object as FakeObject)
        : event.object;
    watcher.controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ type: event.type, object })}\n`));
  }
}

function partial(object: FakeObject): KubeObject {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: object.metadata };
}

function json(code: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: code,
    headers: { 'content-type': 'application/json' },
  });
}

function status(code: number, reason: string, message: string): Response {
  return json(code, { kind: 'Status', status: 'Failure', code, reason, message });
}
