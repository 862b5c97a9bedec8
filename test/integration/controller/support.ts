// Helpers for the controller runtime's integration tests: a KubeHttp whose connection can be cut and
// restored (a network partition seen from the client), ConfigMap writes, and polling.
import { CoffreError } from '../../../src/errors.ts';
import type { KubeHttp, KubeRequest } from '../../../src/controller/kube-http.ts';
import type { KubeObject } from '../../../src/controller/types.ts';

export interface Severable {
  http: KubeHttp;
  /** Aborts every open request (watches included) and refuses new ones until heal(). */
  sever(): void;
  heal(): void;
  /** Statuses of the watch responses seen, in order. */
  watchStatuses: number[];
}

export function severable(inner: KubeHttp): Severable {
  let severed = false;
  const open = new Set<AbortController>();
  const watchStatuses: number[] = [];
  const guard = (request: KubeRequest = {}): KubeRequest => {
    if (severed)
      throw new CoffreError('kube_unreachable', 'network severed by the test', { retryable: true });
    const controller = new AbortController();
    open.add(controller);
    return {
      ...request,
      signal:
        request.signal === undefined
          ? controller.signal
          : AbortSignal.any([request.signal, controller.signal]),
    };
  };
  return {
    http: {
      async send(path, request) {
        const response = await inner.send(path, guard(request));
        if (request?.query?.watch === true) watchStatuses.push(response.status);
        return response;
      },
      json: (path, request) => inner.json(path, guard(request)),
      close: () => inner.close(),
    },
    sever() {
      severed = true;
      for (const controller of open) controller.abort(new Error('network severed by the test'));
      open.clear();
    },
    heal() {
      severed = false;
    },
    watchStatuses,
  };
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function configMaps(http: KubeHttp, namespace: string) {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const write = (method: 'POST' | 'PUT', url: string, body: unknown) =>
    http.json<ConfigMap>(url, { method, contentType: 'application/json', body: JSON.stringify(body) });
  return {
    create: (name: string, data: Record<string, string> = {}) =>
      write('POST', path, { metadata: { name }, data }),
    update: (name: string, data: Record<string, string>) =>
      write('PUT', `${path}/${name}`, { metadata: { name }, data }),
    delete: (name: string) => http.json(`${path}/${name}`, { method: 'DELETE' }),
    list: () => http.json<{ items: ConfigMap[] }>(path).then((list) => list.items),
  };
}

/** Polls until check() is true, or fails after timeoutMs with `what`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** resourceVersion by namespace/name. */
export function versions(objects: readonly KubeObject[]): Map<string, string> {
  return new Map(
    objects.map((o) => [
      `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`,
      o.metadata?.resourceVersion ?? '',
    ]),
  );
}
