// What every chaos scenario stands on: a fresh control plane (bench/cluster.ts), the real OAuth server in
// its own process (bench/oauth.ts) with one audience per token connection, a namespace with the bench
// OAuthClient, a seeded mix of connections (client credentials, rotating refresh tokens, static API
// keys), and what the servers say afterwards: which Secrets exist, which connections are Ready.
import {
  CONNECTION_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  STATE_ROLE_LABEL,
} from '../src/api/v1alpha1/metadata-keys.ts';
import type { VaultConnection } from '../src/api/v1alpha1/resources.ts';
import { startCluster, type BenchCluster } from '../bench/cluster.ts';
import type { BenchContext } from '../bench/context.ts';
import { apiKeyConnection, apiKeySecret, CLIENT_NAME, createOAuthClient } from '../bench/fixtures.ts';
import { createNamespace, forEachConcurrent, paths, type BenchKube } from '../bench/kube.ts';
import { audienceOf, SCOPE, startOAuthServer, type BenchOAuthServer } from '../bench/oauth.ts';
import {
  operatorOptions,
  startOperator,
  type OperatorOptions,
  type OperatorProcess,
} from '../bench/operator-process.ts';
import { sleep } from '../bench/stats.ts';
import { informer, isReady, seeEach, type SecretObject } from '../bench/watch.ts';
import type { KubeObject } from '../src/controller/types.ts';
import { tokenDigest, type TokenLogEntry } from '../tools/local-oauth-server.ts';
import type { Random } from './random.ts';

export const NAMESPACE = 'chaos';

export type ConnectionKind = 'client-credentials' | 'refresh-token' | 'api-key';

export interface PlannedConnection {
  name: string;
  kind: ConnectionKind;
  /** Token connections: the audience only this connection asks for. */
  audience?: string;
}

export interface World {
  cluster: BenchCluster;
  kube: BenchKube;
  oauth: BenchOAuthServer;
  /** Options for an operator process on this world (name still to give). */
  operator: Omit<OperatorOptions, 'name'>;
  start(
    name: string,
    flags?: readonly string[],
    overrides?: Partial<OperatorOptions>,
  ): Promise<OperatorProcess>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Audiences the OAuth server knows: one per token connection (indexes 0..audiences-1). */
  audiences: number;
  accessTokenTtlSeconds: number;
  /** More operator flags for this scenario. */
  flags?: readonly string[];
  /** The operator's default per-host token budget instead of the lifted one (per-host isolation). */
  defaultBudget?: boolean;
}

export async function startWorld(context: BenchContext, options: WorldOptions): Promise<World> {
  const cluster = await startCluster(context);
  const { kube } = cluster;
  let oauth: BenchOAuthServer | undefined;
  try {
    oauth = await startOAuthServer({
      audiences: Array.from({ length: options.audiences }, (_, i) => audienceOf(i)),
      accessTokenTtlSeconds: options.accessTokenTtlSeconds,
      dir: cluster.controlPlane.dir,
    });
    await createNamespace(kube, NAMESPACE);
    await createOAuthClient(kube, NAMESPACE, oauth.issuer);
    const operator = operatorOptions(context, cluster.controlPlane.kubeconfigPath, oauth.caFile, [
      ...(options.defaultBudget === true ? [] : context.budgetFlags),
      ...(options.flags ?? []),
    ]);
    const server = oauth;
    return {
      cluster,
      kube,
      oauth: server,
      operator,
      start: (name, flags = [], overrides = {}) =>
        startOperator({ ...operator, ...overrides, name, flags: [...(operator.flags ?? []), ...flags] }),
      async stop() {
        await server.stop();
        await cluster.stop();
      },
    };
  } catch (error) {
    await oauth?.stop();
    await cluster.stop();
    throw error;
  }
}

/** A seeded mix: `tokenShare` of them token connections (half client credentials, half refresh tokens). */
export function planConnections(n: number, random: Random, tokenShare = 0.7): PlannedConnection[] {
  let audience = 0;
  return Array.from({ length: n }, (_, i) => {
    const draw = random.next();
    const kind: ConnectionKind =
      draw < tokenShare / 2 ? 'client-credentials' : draw < tokenShare ? 'refresh-token' : 'api-key';
    const name = `${kind === 'client-credentials' ? 'cc' : kind === 'refresh-token' ? 'rt' : 'key'}-${String(i).padStart(5, '0')}`;
    return kind === 'api-key' ? { name, kind } : { name, kind, audience: audienceOf(audience++) };
  });
}

export function tokenConnectionsOf(planned: readonly PlannedConnection[]): number {
  return planned.filter((c) => c.kind !== 'api-key').length;
}

function connectionObject(planned: PlannedConnection): object {
  switch (planned.kind) {
    case 'api-key':
      return apiKeyConnection(planned.name, `${planned.name}-credentials`);
    case 'client-credentials':
      return {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: planned.name },
        spec: {
          type: 'oauth2',
          oauthClientRef: { name: CLIENT_NAME },
          oauth2: { audience: planned.audience, scopes: [SCOPE] },
        },
      };
    case 'refresh-token':
      return {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: planned.name },
        spec: {
          type: 'oauth2',
          oauthClientRef: { name: CLIENT_NAME },
          credentialsRef: { name: `${planned.name}-credentials` },
          oauth2: { grant: 'refresh_token', resource: [planned.audience] },
        },
      };
  }
}

/** The credentials Secrets first (refresh tokens issued by the server, as if users had authorised). */
export async function createCredentials(
  world: World,
  planned: readonly PlannedConnection[],
  concurrency: number,
): Promise<void> {
  const refresh = planned.filter((c) => c.kind === 'refresh-token');
  const tokens = await world.oauth.refreshTokens(refresh.map((c) => c.audience ?? ''));
  const refreshTokenOf = new Map(refresh.map((c, i) => [c.name, tokens[i] ?? '']));
  const withSecrets = planned.filter((c) => c.kind !== 'client-credentials');
  await forEachConcurrent(withSecrets, concurrency, async (c) => {
    const secret =
      c.kind === 'api-key'
        ? apiKeySecret(`${c.name}-credentials`)
        : {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: `${c.name}-credentials` },
            stringData: { refreshToken: refreshTokenOf.get(c.name) },
          };
    await world.kube.create(paths.secrets(NAMESPACE), secret);
  });
}

export async function createConnections(
  world: World,
  planned: readonly PlannedConnection[],
  concurrency: number,
): Promise<void> {
  await forEachConcurrent(planned, concurrency, async (c) => {
    await world.kube.create(paths.vaultConnections(NAMESPACE), connectionObject(c));
  });
}

interface SecretItem {
  metadata?: { name?: string; labels?: Record<string, string> };
}

export interface Inventory {
  /** Connections without their target Secret. */
  missingTargets: string[];
  /** Connections with more than one target Secret. */
  duplicatedTargets: string[];
  /** State Secrets of no existing refresh-token connection. */
  orphanedState: string[];
  /** Refresh-token connections without a state Secret. */
  missingState: string[];
}

/** coffre's Secrets as the API server lists them, against the connections that should own them. */
export async function inventory(kube: BenchKube, planned: readonly PlannedConnection[]): Promise<Inventory> {
  const list = await kube.json<{ items: SecretItem[] }>(paths.secrets(NAMESPACE), {
    query: { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` },
  });
  const targets = new Map<string, number>();
  const states = new Map<string, string>();
  for (const secret of list.items) {
    const labels = secret.metadata?.labels ?? {};
    const owner = labels[CONNECTION_LABEL] ?? '';
    if (labels[STATE_ROLE_LABEL] !== undefined) states.set(secret.metadata?.name ?? '', owner);
    else targets.set(owner, (targets.get(owner) ?? 0) + 1);
  }
  const byName = new Map(planned.map((c) => [c.name, c]));
  const owners = new Set(states.values());
  return {
    missingTargets: planned.filter((c) => (targets.get(c.name) ?? 0) === 0).map((c) => c.name),
    duplicatedTargets: [...targets].filter(([, count]) => count > 1).map(([name]) => name),
    orphanedState: [...states]
      .filter(([, owner]) => byName.get(owner)?.kind !== 'refresh-token')
      .map(([name]) => name),
    missingState: planned.filter((c) => c.kind === 'refresh-token' && !owners.has(c.name)).map((c) => c.name),
  };
}

export interface Readiness {
  ready: number;
  /** Name -> Ready reason, for those not Ready. */
  notReady: Record<string, string>;
}

export async function readiness(kube: BenchKube): Promise<Readiness> {
  const list = await kube.json<{ items: VaultConnection[] }>(paths.vaultConnections(NAMESPACE));
  const notReady: Record<string, string> = {};
  let ready = 0;
  for (const connection of list.items) {
    const condition = connection.status?.conditions?.find((c) => c.type === 'Ready');
    if (condition?.status === 'True') ready++;
    else notReady[connection.metadata.name ?? ''] = condition?.reason ?? 'NoCondition';
  }
  return { ready, notReady };
}

/**
 * Waits until `n` connections are Ready or `boundMs` passed (a liveness bound, not a timing: what is
 * checked afterwards is whether all are Ready). Returns when they were, or undefined.
 */
export async function waitAllReady(kube: BenchKube, n: number, boundMs: number): Promise<number | undefined> {
  return waitUntil(kube, boundMs, ({ ready }) => ready >= n);
}

/**
 * Waits until each of the `n` connections is Ready or has stopped for a person (Ready=False,
 * ReauthorizationRequired: a rotation lost at a kill; whether that was explained is checked after).
 */
export async function waitAllSettled(
  kube: BenchKube,
  n: number,
  boundMs: number,
): Promise<number | undefined> {
  return waitUntil(
    kube,
    boundMs,
    ({ ready, notReady }) =>
      ready + Object.values(notReady).filter((reason) => reason === 'ReauthorizationRequired').length >= n,
  );
}

async function waitUntil(
  kube: BenchKube,
  boundMs: number,
  done: (readiness: Readiness) => boolean,
): Promise<number | undefined> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (done(await readiness(kube))) return Date.now();
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

/** Entries of the OAuth server's log that were in flight at `at`, or answered less than `graceMs` before. */
export function inFlightAt(
  log: readonly { receivedAt: number; answeredAt?: number }[],
  at: number,
  graceMs = 1000,
): number {
  return log.filter((e) => e.receivedAt <= at && (e.answeredAt ?? Number.POSITIVE_INFINITY) >= at - graceMs)
    .length;
}

export interface ReadySampler {
  /** [seconds since start, connections Ready] every `intervalMs`. */
  stop(): Promise<[number, number][]>;
}

/** Samples, from a watch, how many connections are Ready (the chart of a scenario). */
export async function sampleReady(kube: BenchKube, start: number, intervalMs = 500): Promise<ReadySampler> {
  const watcher = informer<VaultConnection & KubeObject>(
    kube,
    'chaos-ready',
    { group: 'coffre.dev', version: 'v1alpha1', plural: 'vaultconnections' },
    NAMESPACE,
  );
  watcher.start();
  await watcher.waitForSync();
  const points: [number, number][] = [];
  const sample = () => {
    const ready = watcher.store.list().filter((c) => isReady(c)).length;
    points.push([Math.round((Date.now() - start) / 100) / 10, ready]);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      sample();
      await watcher.stop();
      return points;
    },
  };
}

export interface ConditionEvent {
  at: number;
  name: string;
  type: string;
  status: string;
  reason: string;
}

export interface ConditionWatch {
  /** Every condition change seen, in order. */
  readonly events: readonly ConditionEvent[];
  /** Connections seen with condition `type` = `status` within [from, to], with the reasons seen. */
  seen(type: string, status: string, from: number, to?: number): Map<string, Set<string>>;
  stop(): Promise<void>;
}

/** Records every condition change of the connections (what kubectl get -w would show). */
export async function watchConditions(kube: BenchKube): Promise<ConditionWatch> {
  const watcher = informer<VaultConnection & KubeObject>(
    kube,
    'chaos-conditions',
    { group: 'coffre.dev', version: 'v1alpha1', plural: 'vaultconnections' },
    NAMESPACE,
  );
  const events: ConditionEvent[] = [];
  const last = new Map<string, string>();
  const see = (connection: VaultConnection) => {
    const name = connection.metadata.name ?? '';
    for (const c of connection.status?.conditions ?? []) {
      const key = `${name}/${c.type}`;
      const value = `${c.status}/${c.reason}`;
      if (last.get(key) === value) continue;
      last.set(key, value);
      events.push({ at: Date.now(), name, type: c.type, status: c.status, reason: c.reason });
    }
  };
  await seeEach(watcher, see);
  return {
    events,
    seen(type, status, from, to = Number.POSITIVE_INFINITY) {
      const found = new Map<string, Set<string>>();
      for (const e of events) {
        if (e.type !== type || e.status !== status || e.at < from || e.at > to) continue;
        let reasons = found.get(e.name);
        if (reasons === undefined) {
          reasons = new Set();
          found.set(e.name, reasons);
        }
        reasons.add(e.reason);
      }
      return found;
    },
    stop: () => watcher.stop(),
  };
}

export interface LostRotations {
  /** Audiences whose rotated refresh token died with a killed process before it was written. */
  explained: string[];
  /** invalid_grant answers not explained so: coffre reused a token it should not have. */
  unexplained: number;
  /** One line per invalid_grant, with its timeline (for the report and the logs). */
  details: string[];
}

export interface RotationWatcher {
  /** When a refresh token (by `tokenDigest`) was first seen in a state Secret (epoch ms). */
  persistedAt(digest: string): number | undefined;
  stop(): Promise<void>;
}

/** Watches coffre's state Secrets and records every refresh token written there, by digest. */
export async function watchRotations(kube: BenchKube): Promise<RotationWatcher> {
  const watcher = informer<SecretObject>(
    kube,
    'chaos-rotations',
    { group: '', version: 'v1', plural: 'secrets' },
    NAMESPACE,
    STATE_ROLE_LABEL,
  );
  const seen = new Map<string, number>();
  const see = (secret: SecretObject) => {
    const encoded = secret.data?.refresh_token;
    if (encoded === undefined) return;
    const digest = tokenDigest(Buffer.from(encoded, 'base64').toString('utf8'));
    if (!seen.has(digest)) seen.set(digest, Date.now());
  };
  await seeEach(watcher, see);
  return { persistedAt: (digest) => seen.get(digest), stop: () => watcher.stop() };
}

/**
 * The invalid_grant answers of the server's log, split by cause, from what the servers saw. With
 * strict rotation (no reuse interval), a process killed between the server's answer and the write of
 * its state Secret loses the new refresh token: the next process can only present the previous one,
 * which the server refuses. That window is the protocol's, and is counted apart from a reuse coffre
 * could have avoided. An invalid_grant for token X is explained when the answer that rotated X issued
 * a token Y that never reached a state Secret before X was presented again, and a process was killed
 * between that answer's request and the reuse (so the process holding Y died). Anything else — Y was
 * written and X presented anyway, or no process died in between — is coffre's doing.
 */
export function lostRotations(
  log: readonly TokenLogEntry[],
  kills: readonly number[],
  rotations: Pick<RotationWatcher, 'persistedAt'>,
  /** A request written just before a kill may be read by the server just after it. */
  graceMs = 500,
): LostRotations {
  const explained: string[] = [];
  const details: string[] = [];
  let unexplained = 0;
  log.forEach((entry, index) => {
    if (entry.error !== 'invalid_grant') return;
    const who = entry.audience ?? '(no audience)';
    const rotation = log
      .slice(0, index)
      .find(
        (earlier) =>
          earlier.status === 200 && earlier.presented !== undefined && earlier.presented === entry.presented,
      );
    if (rotation?.issued === undefined) {
      unexplained++;
      details.push(`${who}: invalid_grant for a refresh token the server never rotated`);
      return;
    }
    const written = rotations.persistedAt(rotation.issued);
    const killed = kills.find((at) => at >= rotation.receivedAt - graceMs && at <= entry.receivedAt);
    const timeline = `rotated ${rotation.receivedAt}-${rotation.answeredAt ?? '?'}, reused ${entry.receivedAt}`;
    if (written !== undefined && written <= entry.receivedAt) {
      unexplained++;
      details.push(
        `${who}: the old refresh token presented after the new one was written (${timeline}, written ${written})`,
      );
    } else if (killed === undefined) {
      unexplained++;
      details.push(`${who}: the new refresh token not written, and no process killed (${timeline})`);
    } else {
      explained.push(who);
      details.push(
        `${who}: lost at the kill at ${killed}, ${killed - (rotation.answeredAt ?? rotation.receivedAt)} ms after the answer (${timeline})`,
      );
    }
  });
  return { explained: [...new Set(explained)], unexplained, details };
}
