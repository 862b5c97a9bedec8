// Watching what the operator does, from the outside: when each VaultConnection is first seen Ready=True
// (millisecond clock, unlike the conditions' second-precision timestamps), and every token published
// into a target Secret. Built on the operator's own Informer over the bench's client.
import { systemClock } from '../src/clock.ts';
import { Informer } from '../src/controller/informer.ts';
import { resolveInformerOptions } from '../src/controller/options.ts';
import type { KubeObject } from '../src/controller/types.ts';
import { silentLogger } from '../src/observability/logger.ts';
import type { VaultConnection } from '../src/api/v1alpha1/resources.ts';
import type { BenchKube } from './kube.ts';

export function informer<T extends KubeObject>(
  kube: BenchKube,
  name: string,
  resource: { group: string; version: string; plural: string },
  namespace: string | undefined,
  labelSelector?: string,
): Informer<T> {
  return new Informer<T>(
    resolveInformerOptions<T>(
      {
        name,
        resource,
        namespaces: namespace === undefined ? [] : [namespace],
        ...(labelSelector === undefined ? {} : { labelSelector }),
        pageSize: 500,
        watchTimeoutSeconds: 600,
        backoff: { baseMs: 200, maxMs: 2000 },
      },
      { http: kube, clock: systemClock, logger: silentLogger(), random: Math.random },
    ),
  );
}

/** Calls `see` with every object the watcher adds or updates, from now on; resolves once it has synced. */
export async function seeEach<T extends KubeObject>(
  watcher: Informer<T>,
  see: (object: T) => void,
): Promise<void> {
  watcher.addHandlers({
    onAdd: see,
    onUpdate: (_old, object) => {
      see(object);
    },
  });
  watcher.start();
  await watcher.waitForSync();
}

export interface ReadyTracker {
  /** Name -> when it was first seen Ready=True (epoch ms). */
  readonly readyAt: ReadonlyMap<string, number>;
  /** Resolves once `count` connections have been seen Ready; rejects after timeoutMs. */
  waitForReady(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export function isReady(connection: VaultConnection): boolean {
  return (connection.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function trackReady(kube: BenchKube, namespace: string): Promise<ReadyTracker> {
  const watcher = informer<VaultConnection & KubeObject>(
    kube,
    'bench-ready',
    { group: 'coffre.dev', version: 'v1alpha1', plural: 'vaultconnections' },
    namespace,
  );
  const readyAt = new Map<string, number>();
  let waiter: { count: number; resolve: () => void } | undefined;
  const see = (connection: VaultConnection) => {
    const name = connection.metadata.name ?? '';
    if (readyAt.has(name) || !isReady(connection)) return;
    readyAt.set(name, Date.now());
    if (waiter !== undefined && readyAt.size >= waiter.count) waiter.resolve();
  };
  await seeEach(watcher, see);
  return {
    readyAt,
    async waitForReady(count, timeoutMs) {
      if (readyAt.size >= count) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`${readyAt.size} of ${count} connections Ready after ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    stop: () => watcher.stop(),
  };
}

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export interface PublishedToken {
  /** When the bench saw it published (epoch ms). */
  seenAt: number;
  /** The token's own expiry (JWT exp, else the Secret's expires_at), epoch ms. */
  expiresAt: number;
}

export interface TokenWatcher {
  /** Every publication of a new access token, per Secret name, in order. */
  readonly published: ReadonlyMap<string, readonly PublishedToken[]>;
  stop(): Promise<void>;
}

function expiryOf(data: Record<string, string>): number | undefined {
  const token = data.access_token === undefined ? '' : Buffer.from(data.access_token, 'base64').toString();
  const payload = token.split('.')[1];
  if (payload !== undefined) {
    try {
      const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: number }).exp;
      if (typeof exp === 'number') return exp * 1000;
    } catch {
      // Not a JWT: fall back on expires_at.
    }
  }
  const expiresAt = data.expires_at === undefined ? '' : Buffer.from(data.expires_at, 'base64').toString();
  const ms = Date.parse(expiresAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Watches coffre's Secrets in a namespace and records each new token with its expiry. */
export async function watchTokens(kube: BenchKube, namespace: string): Promise<TokenWatcher> {
  const watcher = informer<SecretObject>(
    kube,
    'bench-tokens',
    { group: '', version: 'v1', plural: 'secrets' },
    namespace,
    'app.kubernetes.io/managed-by=coffre',
  );
  const published = new Map<string, PublishedToken[]>();
  const lastToken = new Map<string, string>();
  const see = (secret: SecretObject) => {
    const name = secret.metadata?.name ?? '';
    const token = secret.data?.access_token;
    if (token === undefined || lastToken.get(name) === token) return;
    lastToken.set(name, token);
    const expiresAt = expiryOf(secret.data ?? {});
    if (expiresAt === undefined) return;
    let list = published.get(name);
    if (list === undefined) {
      list = [];
      published.set(name, list);
    }
    list.push({ seenAt: Date.now(), expiresAt });
  };
  await seeEach(watcher, see);
  return { published, stop: () => watcher.stop() };
}
