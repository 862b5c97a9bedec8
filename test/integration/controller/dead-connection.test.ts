// A connection to the API server that stops answering (half-open, or its peer stuck) costs one
// request timeout and one watch inactivity period, never more: the chaos run's stall after a
// kube-apiserver kill (docs/reliability.md) was every request of the process timing out for minutes on
// one dead HTTP/2 connection. A TCP proxy in front of the real API server freezes the connections it
// has (they stay open, nothing passes) while new ones go through.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../../src/clock.ts';
import { Informer } from '../../../src/controller/informer.ts';
import { createKubeHttp, KUBE_TIMEOUT, type KubeHttp } from '../../../src/controller/kube-http.ts';
import { resolveInformerOptions } from '../../../src/controller/options.ts';
import { CoffreError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { clusterKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { configMaps, eventually, type ConfigMap } from './support.ts';

interface FreezingProxy {
  url: string;
  /** Connections opened so far. */
  opened(): number;
  /** Every connection open now stops passing bytes, both ways, and stays open. */
  freeze(): void;
  close(): Promise<void>;
}

async function freezingProxy(target: URL): Promise<FreezingProxy> {
  const pairs: { client: Socket; upstream: Socket }[] = [];
  const all: Socket[] = [];
  let opened = 0;
  const server: Server = createServer((client) => {
    opened += 1;
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    pairs.push({ client, upstream });
    all.push(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    opened: () => opened,
    freeze() {
      for (const { client, upstream } of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const socket of all.splice(0)) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

function throughProxy(proxy: FreezingProxy): KubeConfig {
  const kc = clusterKubeConfig();
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no current cluster');
  (cluster as { server: string }).server = proxy.url;
  return kc;
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof CoffreError ? error.code : String(error);
  }
}

describe('a dead connection to the API server', () => {
  let proxy: FreezingProxy;
  let target: URL;

  beforeAll(async () => {
    target = new URL(clusterKubeConfig().getCurrentCluster()?.server ?? '');
    proxy = await freezingProxy(target);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('costs the requests on it one timeout each; the next request opens a fresh connection', async () => {
    const http: KubeHttp = createKubeHttp(throughProxy(proxy), { requestTimeoutMs: 1500 });
    try {
      // Several requests at once: a pool of several connections, all frozen below.
      const warm = await Promise.all(
        Array.from({ length: 4 }, () => outcome(http.json('/api/v1/namespaces/default'))),
      );
      expect(warm).toEqual(['ok', 'ok', 'ok', 'ok']);
      const before = proxy.opened();
      proxy.freeze();

      // Each frozen connection fails the one request it carries, and is dropped with it; a request may
      // also go to a fresh connection first (the pool opens one when it sees the others busy) and a
      // frozen one after. So: at most one timeout per frozen connection, then fresh ones that work.
      const results: string[] = [];
      const okInARow = () => results.length - 1 - results.findLastIndex((r) => r !== 'ok');
      for (let i = 0; i < 12 && okInARow() < 3; i++) {
        results.push(await outcome(http.json('/api/v1/namespaces/default')));
      }
      expect(okInARow()).toBe(3);
      expect(results.filter((r) => r !== 'ok').every((r) => r === KUBE_TIMEOUT)).toBe(true);
      expect(results.filter((r) => r === KUBE_TIMEOUT).length).toBeLessThanOrEqual(4);
      expect(proxy.opened()).toBeGreaterThan(before);
    } finally {
      await http.close();
    }
  });

  it('is found by a watch through its inactivity bound, which reopens from the last resourceVersion', async () => {
    const namespace = await useTestNamespace('dead-watch');
    const direct = createKubeHttp(clusterKubeConfig());
    const http = createKubeHttp(throughProxy(proxy));
    const cms = configMaps(direct, namespace);
    await cms.create('first', { v: '1' });
    const lists: string[] = [];
    const informer = new Informer<ConfigMap>(
      resolveInformerOptions<ConfigMap>(
        {
          name: 'dead-watch',
          resource: { group: '', version: 'v1', plural: 'configmaps' },
          namespaces: [namespace],
          watchInactivityMs: 2000,
          backoff: { baseMs: 100, maxMs: 500 },
        },
        {
          http,
          clock: systemClock,
          logger: silentLogger(),
          random: Math.random,
          observer: { listed: (_name, reason) => lists.push(reason) },
        },
      ),
    );
    try {
      informer.start();
      await informer.waitForSync();
      // The watch is open once it delivers a change: then freeze the connection it is on.
      await cms.create('before-the-freeze', { v: '1' });
      await eventually(
        'the watch to deliver a change',
        () => informer.store.get(`${namespace}/before-the-freeze`) !== undefined,
      );
      proxy.freeze();
      await cms.create('after-the-freeze', { v: '1' });
      await eventually(
        'the change made after the freeze to reach the cache',
        () => informer.store.get(`${namespace}/after-the-freeze`) !== undefined,
        20_000,
      );
      // Reopened from its resourceVersion: one list in all.
      expect(lists).toEqual(['initial']);
    } finally {
      await informer.stop();
      await http.close();
      await direct.close();
    }
  });
});
