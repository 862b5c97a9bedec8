// ≥ 10,000 VaultConnections, OAuthClients and Secrets generated from the API schema (fast-check, seeded;
// valid, invalid and hostile: huge strings, unicode, every enum, missing and extra keys) sent to the
// real API server in batches while the operator runs. Whatever the API server accepts, the operator
// - does not crash and leaves no unhandled rejection;
// - gives every accepted VaultConnection and OAuthClient a condition (the bound is generous: it is a
//   liveness check, not a timing);
// - keeps 100 unrelated valid connections Ready throughout (90 static, 10 with tokens).
// Every host a generated object could name is rewritten to a loopback address, so nothing leaves
// 127.0.0.1 (the SSRF guard refuses 127.0.0.2; nothing listens on 127.0.0.1:1).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { Informer } from '../../../src/controller/informer.ts';
import { createKubeHttp, isKubeApiError, type KubeHttp } from '../../../src/controller/kube-http.ts';
import { resolveInformerOptions } from '../../../src/controller/options.ts';
import type { KubeObject } from '../../../src/controller/types.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { HOST_PATTERN } from '../../../src/api/v1alpha1/schema-kit.ts';
import { clusterKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { fuzzObject, type FuzzObject } from '../../support/fuzz-objects.ts';
import { AUDIENCE, SCOPES, applyClient, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

const SEED = 19_022;
const CANARY = 'CANARY-fuzz-1b9e';
const OBJECTS = 10_000;
const BATCH = 500;
const CONCURRENCY = 16;
const STEADY_STATIC = 90;
const STEADY_TOKEN = 10;
/** Liveness bound for "every accepted object gets a condition", after the last batch. */
const CONDITION_BOUND_MS = 240_000;

interface Watched extends KubeObject {
  spec?: unknown;
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

const plural: Record<FuzzObject['kind'], string> = {
  VaultConnection: 'vaultconnections',
  OAuthClient: 'oauthclients',
  Secret: 'secrets',
};

function collection(namespace: string, kind: FuzzObject['kind']): string {
  return kind === 'Secret'
    ? `/api/v1/namespaces/${namespace}/secrets`
    : `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/${plural[kind]}`;
}

const hostRegExp = new RegExp(HOST_PATTERN);
const LOCAL_HOSTS = ['127.0.0.1:1', '127.0.0.2', 'localhost:1'];

/** Keeps every host a generated object names on loopback; leaves invalid values as generated. */
function localise(value: unknown, key: string, pick: () => number, oauthHost: string): unknown {
  const local = () => [...LOCAL_HOSTS, oauthHost][pick() % (LOCAL_HOSTS.length + 1)] ?? oauthHost;
  if (typeof value === 'string') {
    const url = /^https:\/\//.test(value) ? URL.parse(value) : null;
    if (url !== null && url.host !== '') return `https://${local()}${url.pathname}${url.search}`;
    if ((key === 'domain' || key === 'shopDomain') && hostRegExp.test(value)) return local();
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => localise(item, key, pick, oauthHost));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, localise(v, k, pick, oauthHost)] as const),
    );
  }
  return value;
}

function watch(http: KubeHttp, namespace: string, group: string, resource: string): Informer<Watched> {
  return new Informer<Watched>(
    resolveInformerOptions<Watched>(
      {
        name: `fuzz-${resource}`,
        resource: { group, version: group === '' ? 'v1' : 'v1alpha1', plural: resource },
        namespaces: [namespace],
        pageSize: 500,
        watchTimeoutSeconds: 600,
        backoff: { baseMs: 200, maxMs: 2000 },
      },
      { http, clock: systemClock, logger: silentLogger(), random: Math.random },
    ),
  );
}

const ready = (object: Watched | undefined) =>
  object?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function forEachConcurrent<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe('the operator under ≥ 10,000 generated objects', () => {
  it(
    `gives every accepted object a condition, keeps 100 others Ready, never crashes (seed ${SEED})`,
    {
      timeout: 15 * 60_000,
    },
    async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const namespace = await useTestNamespace('fuzz');
        const server = await startOAuthServer({
          accessTokenTtlSeconds: 3600,
          resourceServers: { [AUDIENCE]: { scope: SCOPES.join(' ') } },
        });
        const oauthHost = new URL(server.issuer).host;
        const operator = await startTestOperator({
          namespace,
          caPem: server.caPem,
          flags: [
            '--log-level=info',
            '--workers=8',
            `--slack-api-base-url=${server.issuer}/slack`,
            `--shopify-base-url=${server.issuer}/{shop}`,
            `--zendesk-base-url=${server.issuer}/zendesk`,
            `--twilio-oauth-base-url=${server.issuer}/twilio`,
          ],
        });
        const http = createKubeHttp(clusterKubeConfig());
        const connections = watch(http, namespace, 'coffre.dev', 'vaultconnections');
        const clients = watch(http, namespace, 'coffre.dev', 'oauthclients');

        // 100 unrelated valid connections, Ready before the storm; any moment one is not Ready is counted.
        const steadyNames = new Set<string>();
        const notReadyMoments: string[] = [];
        const seenReady = new Set<string>();
        const track = (connection: Watched) => {
          const name = connection.metadata?.name ?? '';
          if (!steadyNames.has(name)) return;
          if (ready(connection)) seenReady.add(name);
          else if (seenReady.has(name)) notReadyMoments.push(`${name}: ${JSON.stringify(connection.status)}`);
        };
        connections.addHandlers({
          onAdd: track,
          onUpdate: (_old, connection) => {
            track(connection);
          },
        });
        connections.start();
        clients.start();
        await Promise.all([connections.waitForSync(), clients.waitForSync()]);

        await applyClient(namespace, server, 'steady');
        for (let i = 0; i < STEADY_STATIC + STEADY_TOKEN; i += 1) {
          const name = `steady-${i}`;
          steadyNames.add(name);
          if (i < STEADY_STATIC) {
            await http.json(collection(namespace, 'Secret'), {
              method: 'POST',
              contentType: 'application/json',
              body: JSON.stringify({ metadata: { name }, stringData: { apiKey: `key-${i}-0123456789` } }),
            });
          }
          const spec =
            i < STEADY_STATIC
              ? { type: 'apiKey', credentialsRef: { name } }
              : {
                  type: 'oauth2',
                  oauthClientRef: { name: 'steady' },
                  oauth2: { audience: AUDIENCE, scopes: SCOPES },
                };
          await http.json(collection(namespace, 'VaultConnection'), {
            method: 'POST',
            contentType: 'application/json',
            body: JSON.stringify({
              apiVersion: 'coffre.dev/v1alpha1',
              kind: 'VaultConnection',
              metadata: { name },
              spec,
            }),
          });
        }
        await expect
          .poll(() => seenReady.size, { timeout: 120_000, interval: 250 })
          .toBe(STEADY_STATIC + STEADY_TOKEN);

        // The storm, in batches; each batch from its own seed so that a failing batch can be replayed.
        const accepted = new Map<string, FuzzObject['kind']>();
        const refusals = new Map<number, number>();
        const created: Record<FuzzObject['kind'], string[]> = {
          VaultConnection: [],
          OAuthClient: [],
          Secret: [],
        };
        let sent = 0;
        for (let batch = 0; sent < OBJECTS; batch += 1) {
          const generated = fc.sample(fuzzObject(), { seed: SEED + batch, numRuns: BATCH });
          let pickState = batch;
          const pick = () => (pickState = (pickState * 1_103_515_245 + 12_345) % 2 ** 31);
          const items = generated.map((item, i) => {
            const index = sent + i;
            const metadata = item.object.metadata as { name: string };
            const name = `${metadata.name}-${index}`;
            const object = localise(item.object, '', pick, oauthHost) as Record<string, unknown>;
            const spec = object.spec;
            // Point a third of the references at objects that exist, so references resolve too.
            const existing = (kind: FuzzObject['kind']) =>
              created[kind][pick() % Math.max(1, created[kind].length)];
            if (index % 3 === 0 && typeof spec === 'object' && spec !== null) {
              const refs = spec as Record<string, unknown>;
              const point = (field: string, target: string | undefined) => {
                const ref = refs[field];
                if (typeof ref === 'object' && ref !== null && target !== undefined) {
                  (ref as Record<string, unknown>).name = target;
                }
              };
              point('credentialsRef', existing('Secret'));
              point('clientSecretRef', existing('Secret'));
              point('oauthClientRef', existing('OAuthClient'));
            }
            if (item.kind === 'Secret') {
              // A canary in every generated secret value: it must never reach a status, an Event or a log.
              const data = object.stringData as Record<string, string>;
              for (const key of Object.keys(data)) data[key] = `${data[key] ?? ''}${CANARY}`;
            }
            return { kind: item.kind, name, object: { ...object, metadata: { ...metadata, name } } };
          });
          await forEachConcurrent(items, async ({ kind, name, object }) => {
            try {
              await http.json(collection(namespace, kind), {
                method: 'POST',
                contentType: 'application/json',
                body: JSON.stringify(object),
              });
              accepted.set(`${kind}/${name}`, kind);
              created[kind].push(name);
            } catch (error) {
              if (!isKubeApiError(error)) throw error;
              refusals.set(error.status, (refusals.get(error.status) ?? 0) + 1);
            }
          });
          sent += items.length;
        }
        console.log(
          `fuzzed objects (seed ${SEED}..${SEED + Math.ceil(OBJECTS / BATCH) - 1}): ${sent} sent, ${accepted.size} accepted`,
          `(VaultConnection ${created.VaultConnection.length}, OAuthClient ${created.OAuthClient.length}, Secret ${created.Secret.length}); refusals by status`,
          Object.fromEntries(refusals),
        );
        expect(sent).toBeGreaterThanOrEqual(OBJECTS);
        // The generator reaches both sides of the schema.
        expect(created.VaultConnection.length).toBeGreaterThan(100);
        expect(created.OAuthClient.length).toBeGreaterThan(10);
        expect([...refusals.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(100);

        // Every accepted VaultConnection and OAuthClient gets a condition.
        const withoutCondition = () => {
          const missing: string[] = [];
          for (const name of created.VaultConnection) {
            if ((connections.store.get(`${namespace}/${name}`)?.status?.conditions ?? []).length === 0)
              missing.push(`vc/${name}`);
          }
          for (const name of created.OAuthClient) {
            if ((clients.store.get(`${namespace}/${name}`)?.status?.conditions ?? []).length === 0)
              missing.push(`oac/${name}`);
          }
          return missing;
        };
        await expect
          .poll(() => withoutCondition().slice(0, 20), { timeout: CONDITION_BOUND_MS, interval: 1000 })
          .toEqual([]);

        // Conditions are well-formed, and no secret value reached a status.
        const CONDITION = /^[A-Z][A-Za-z]*$/;
        const problems: string[] = [];
        for (const object of [...connections.store.list(), ...clients.store.list()]) {
          const name = object.metadata?.name ?? '';
          if (JSON.stringify(object.status ?? {}).includes(CANARY))
            problems.push(`${name}: canary in status`);
          for (const c of object.status?.conditions ?? []) {
            if (!CONDITION.test(c.type) || !['True', 'False', 'Unknown'].includes(c.status)) {
              problems.push(`${name}: condition ${JSON.stringify(c)}`);
            }
            if (c.reason === undefined || !CONDITION.test(c.reason))
              problems.push(`${name}: reason ${String(c.reason)}`);
          }
        }
        expect(problems.slice(0, 20)).toEqual([]);
        expect(operator.logs()).not.toContain(CANARY);
        const events = await http.json<{ items: { message?: string }[] }>(
          `/api/v1/namespaces/${namespace}/events`,
        );
        expect(events.items.filter((e) => (e.message ?? '').includes(CANARY)).length).toBe(0);

        // The unrelated connections stayed Ready throughout, and still are.
        expect(notReadyMoments.slice(0, 10)).toEqual([]);
        for (const name of steadyNames)
          expect(ready(connections.store.get(`${namespace}/${name}`)), name).toBe(true);

        // The operator is alive: it still reconciles (a new valid connection turns Ready).
        await http.json(collection(namespace, 'VaultConnection'), {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify({
            apiVersion: 'coffre.dev/v1alpha1',
            kind: 'VaultConnection',
            metadata: { name: 'after-the-storm' },
            spec: { type: 'apiKey', credentialsRef: { name: 'steady-0' } },
          }),
        });
        await expect
          .poll(() => ready(connections.store.get(`${namespace}/after-the-storm`)), {
            timeout: 120_000,
            interval: 250,
          })
          .toBe(true);
        expect(operator.logs()).not.toContain('"level":60');
        await Promise.all([connections.stop(), clients.stop()]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).toEqual([]);
    },
  );
});
