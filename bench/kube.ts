// The bench's own client for the API server: one keep-alive undici Agent with the admin kubeconfig's
// client certificate, so that setting up thousands of objects costs the bench as little as possible and
// never competes with the operator for TLS handshakes. It implements the operator's KubeHttp interface,
// so the operator's own Informer can watch objects for the bench.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import { kubeApiErrorFrom, type KubeHttp, type KubeRequest } from '../src/controller/kube-http.ts';

export interface BenchKube extends KubeHttp {
  readonly server: string;
  /** POSTs an object to a collection path. */
  create(path: string, object: unknown): Promise<void>;
  close(): Promise<void>;
}

export function createBenchKube(kubeconfigPath: string): BenchKube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (cluster?.caFile === undefined || user?.certFile === undefined || user.keyFile === undefined) {
    throw new Error(`${kubeconfigPath}: expected a CA file and a client certificate and key file`);
  }
  const server = cluster.server.replace(/\/+$/, '');
  const agent = new Agent({
    connections: 64,
    connect: {
      ca: readFileSync(cluster.caFile),
      cert: readFileSync(user.certFile),
      key: readFileSync(user.keyFile),
    },
  });

  const send = async (path: string, request: KubeRequest = {}) => {
    const url = new URL(server + path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: request.accept ?? 'application/json' };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    return fetch(url, {
      method: request.method ?? 'GET',
      headers,
      dispatcher: agent,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
  };

  const json = async <T>(path: string, request?: KubeRequest): Promise<T> => {
    const response = await send(path, request);
    if (!response.ok) throw await kubeApiErrorFrom(response);
    return (await response.json()) as T;
  };

  return {
    server,
    send,
    json,
    async create(path, object) {
      const response = await send(path, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify(object),
      });
      if (!response.ok) throw await kubeApiErrorFrom(response);
      await response.body?.cancel();
    },
    close: () => agent.close(),
  };
}

/** Runs `task` over `items` with at most `concurrency` at once; resolves when all are done. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const paths = {
  namespaces: '/api/v1/namespaces',
  secrets: (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`,
  vaultConnections: (namespace: string) =>
    `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections`,
  oauthClients: (namespace: string) => `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients`,
};

export async function createNamespace(kube: BenchKube, name: string): Promise<void> {
  await kube.create(paths.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}
