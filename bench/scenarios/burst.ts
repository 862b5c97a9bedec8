// Scenario 1, burst: N client-credentials connections applied at once, each with its own audience so
// that each needs its own token request (token latency on the critical path); the time until all are
// Ready, and each connection's time from creation to Ready. Scenario 2, the floor: the same apply,
// answered by floor.ts, which only makes the API writes N connections need.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { startCluster, type BenchCluster } from '../cluster.ts';
import { cumulativeCurve, type BenchContext, type Curve } from '../context.ts';
import { connectionName, createOAuthClient, tokenConnection, CLIENT_NAME } from '../fixtures.ts';
import type { FloorMessage, FloorOptions } from '../floor.ts';
import { createNamespace, forEachConcurrent, paths, type BenchKube } from '../kube.ts';
import { audienceOf, startOAuthServer, type BenchOAuthServer } from '../oauth.ts';
import {
  operatorOptions,
  startOperator,
  type OperatorOptions,
  type OperatorProcess,
} from '../operator-process.ts';
import { sum } from '../prom.ts';
import { cost, snapshot, type PhaseCost } from '../snapshot.ts';
import { percentile, sleep } from '../stats.ts';
import { trackReady, type ReadyTracker } from '../watch.ts';

export const NAMESPACE = 'bench';

export interface ReadyTimes {
  /** From the first create sent to the last connection seen Ready. */
  totalMs: number;
  /** How long the bench took to create the N connections. */
  applyMs: number;
  /** Per connection: from its create answered to it seen Ready. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connections Ready per second over the total. */
  perSecond: number;
  curve: Curve;
}

export interface BurstResult extends ReadyTimes {
  n: number;
  /** 1..--repeat, for the runs without latency. */
  repetition?: number;
  latencyMs: number;
  budget: 'lifted' | 'default';
  /** Spawn to /readyz of the operator, in an empty cluster. */
  startupMs: number;
  startup: Startup;
  cost: PhaseCost;
  peakRssBytes: number;
}

/** Start-up milestones, ms after the process was spawned. */
export interface Startup {
  /** The log's first line: Node started and the modules loaded. */
  processStartedMs: number | undefined;
  cachesSyncedMs: number | undefined;
  controllersStartedMs: number | undefined;
  /** The first reconcile counted in the operator's metrics (polled every 50 ms). */
  firstReconcileMs: number | undefined;
  /** Every connection reconciled once. */
  allReconciledMs: number | undefined;
}

export interface RestartResult {
  connections: number;
  startup: Startup;
  /** What the restart caused: token requests and writes on the operator's resources. */
  cost: PhaseCost;
}

export interface FloorResult extends ReadyTimes {
  n: number;
  repetition?: number;
  pinAgent: boolean;
  cost: PhaseCost;
}

export type FloorTemplate = FloorOptions['template'];

/** Creates connections `names` with `concurrency` creates at once; when each create was answered. */
export async function applyAll(
  kube: BenchKube,
  namespace: string,
  objects: readonly { name: string; object: object }[],
  concurrency: number,
): Promise<Map<string, number>> {
  const createdAt = new Map<string, number>();
  await forEachConcurrent(objects, concurrency, async ({ name, object }) => {
    await kube.create(paths.vaultConnections(namespace), object);
    createdAt.set(name, Date.now());
  });
  return createdAt;
}

function readyTimes(start: number, applied: number, createdAt: Map<string, number>, tracker: ReadyTracker) {
  const perConnection: number[] = [];
  for (const [name, ready] of tracker.readyAt) {
    const created = createdAt.get(name);
    if (created !== undefined) perConnection.push(Math.max(0, ready - created));
  }
  const last = Math.max(...tracker.readyAt.values());
  const totalMs = last - start;
  return {
    totalMs,
    applyMs: applied - start,
    p50Ms: percentile(perConnection, 50) ?? 0,
    p99Ms: percentile(perConnection, 99) ?? 0,
    maxMs: percentile(perConnection, 100) ?? 0,
    perSecond: Math.round((createdAt.size / totalMs) * 1000 * 10) / 10,
    curve: cumulativeCurve(start, tracker.readyAt.values()),
  };
}

/** Applies N token connections, each with its own audience, and times them until all are Ready. */
async function applyBurst(
  context: BenchContext,
  kube: BenchKube,
  n: number,
  tracker: ReadyTracker,
): Promise<ReadyTimes> {
  const objects = Array.from({ length: n }, (_, i) => ({
    name: connectionName(i),
    object: tokenConnection(connectionName(i), audienceOf(i)),
  }));
  const start = Date.now();
  const createdAt = await applyAll(kube, NAMESPACE, objects, context.applyConcurrency);
  const applied = Date.now();
  await tracker.waitForReady(n, readyTimeout(n));
  await tracker.stop();
  return readyTimes(start, applied, createdAt, tracker);
}

function readyTimeout(n: number): number {
  return Math.min(20 * 60_000, 60_000 + n * 250);
}

async function waitOAuthClientReady(kube: BenchKube, namespace: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = await kube.json<{ status?: { conditions?: { type: string; status: string }[] } }>(
      `${paths.oauthClients(namespace)}/${CLIENT_NAME}`,
    );
    if (client.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error('the OAuthClient is not Ready after 60 s');
    await sleep(100);
  }
}

export interface BurstRun {
  n: number;
  latencyMs: number;
  budget: 'lifted' | 'default';
  /** Scenario 6: once all are Ready, restart the operator and count what the restart causes. */
  restart?: boolean;
}

async function milestones(
  operator: OperatorProcess,
): Promise<Omit<Startup, 'firstReconcileMs' | 'allReconciledMs'>> {
  const at = async (message: string) => {
    const time = await operator.logTime(message);
    return time === undefined ? undefined : time - operator.spawnedAt;
  };
  return {
    processStartedMs: await at('coffre starting'),
    cachesSyncedMs: await at('caches synced'),
    controllersStartedMs: await at('controllers started'),
  };
}

/** Stops the operator, starts a new one on the same cluster, and counts what the restart causes. */
async function restartOperator(
  context: BenchContext,
  cluster: BenchCluster,
  oauth: BenchOAuthServer,
  operator: OperatorProcess,
  options: Omit<OperatorOptions, 'name'>,
  n: number,
): Promise<RestartResult> {
  context.log(`restart: ${n} Ready connections`);
  await operator.stop();
  const before = await snapshot(cluster, oauth, undefined);
  const restarted = await startOperator({ ...options, name: `restart-n${n}` });
  try {
    let firstReconcileMs: number | undefined;
    let allReconciledMs: number | undefined;
    const deadline = Date.now() + 10 * 60_000;
    while (allReconciledMs === undefined && Date.now() < deadline) {
      const samples = await restarted.metrics().catch(() => []);
      const reconciled = sum(samples, 'coffre_reconcile_total', { controller: 'vaultconnection' });
      if (reconciled > 0) firstReconcileMs ??= Date.now() - restarted.spawnedAt;
      if (reconciled >= n) allReconciledMs = Date.now() - restarted.spawnedAt;
      await sleep(50);
    }
    // Whatever the restart triggers (a write, its echo, an event) has landed after this.
    await sleep(5000);
    const after = await snapshot(cluster, oauth, undefined);
    const startup: Startup = { ...(await milestones(restarted)), firstReconcileMs, allReconciledMs };
    const phase = cost(before, after);
    context.log(
      `  first reconcile ${String(firstReconcileMs)} ms after spawn, all ${String(allReconciledMs)} ms; ${phase.tokenRequests} token requests, ${phase.apiServerWritesTotal} writes`,
    );
    return { connections: n, startup, cost: phase };
  } finally {
    await restarted.stop();
  }
}

/** One burst on a fresh control plane; also returns coffre's objects as the floor's template. */
export async function runBurst(
  context: BenchContext,
  run: BurstRun,
): Promise<{ result: BurstResult; template: FloorTemplate; restart?: RestartResult }> {
  const { n, latencyMs, budget } = run;
  const label = `burst-n${n}-l${latencyMs}-${budget}`;
  context.log(`burst: N=${n}, token latency ${latencyMs} ms, ${budget} token budget`);
  const cluster = await startCluster(context);
  const { kube } = cluster;
  const oauth = await startOAuthServer({
    audiences: Array.from({ length: n }, (_, i) => audienceOf(i)),
    accessTokenTtlSeconds: 3600,
    dir: cluster.controlPlane.dir,
  });
  try {
    await oauth.setLatency(latencyMs);
    await createNamespace(kube, NAMESPACE);
    await createOAuthClient(kube, NAMESPACE, oauth.issuer);
    const options = operatorOptions(
      context,
      cluster.controlPlane.kubeconfigPath,
      oauth.caFile,
      budget === 'lifted' ? context.budgetFlags : [],
    );
    const operator = await startOperator({ ...options, name: label });
    try {
      const startupMs = (await operator.waitReady()) - operator.spawnedAt;
      const emptyStartup = await milestones(operator);
      await waitOAuthClientReady(kube, NAMESPACE);
      const tracker = await trackReady(kube, NAMESPACE);
      const before = await snapshot(cluster, oauth, operator);
      const times = await applyBurst(context, kube, n, tracker);
      // Events are sent without waiting for them: let the last ones land before counting.
      await sleep(2000);
      const after = await snapshot(cluster, oauth, operator);
      const { peakRss } = await operator.memory();
      const template = await floorTemplate(kube);
      const result: BurstResult = {
        n,
        latencyMs,
        budget,
        startupMs,
        startup: { ...emptyStartup, firstReconcileMs: undefined, allReconciledMs: undefined },
        ...times,
        cost: cost(before, after),
        peakRssBytes: peakRss,
      };
      context.log(
        `  all Ready in ${times.totalMs} ms (apply ${times.applyMs} ms), p50 ${times.p50Ms} ms, p99 ${times.p99Ms} ms; ${result.cost.tokenRequests} token requests, ${result.cost.apiServerWritesTotal} writes`,
      );
      if (run.restart !== true) return { result, template };
      const restart = await restartOperator(context, cluster, oauth, operator, options, n);
      return { result, template, restart };
    } finally {
      await operator.stop();
    }
  } finally {
    await oauth.stop();
    await cluster.stop();
  }
}

/** coffre's first target Secret and status, as the floor's template (same keys, same sizes). */
async function floorTemplate(kube: BenchKube): Promise<FloorTemplate> {
  const name = connectionName(0);
  const secret = await kube.json<V1Secret>(`${paths.secrets(NAMESPACE)}/${name}-token`);
  const connection = await kube.json<{ status: Record<string, unknown> }>(
    `${paths.vaultConnections(NAMESPACE)}/${name}`,
  );
  return {
    secret: {
      metadata: {
        ...(secret.metadata?.labels === undefined ? {} : { labels: secret.metadata.labels }),
        ...(secret.metadata?.annotations === undefined ? {} : { annotations: secret.metadata.annotations }),
      },
      type: secret.type ?? 'Opaque',
      ...(secret.data === undefined ? {} : { data: secret.data }),
    },
    status: connection.status,
  };
}

export interface FloorRun {
  n: number;
  pinAgent: boolean;
  template: FloorTemplate;
}

/** The floor on a fresh control plane: the same apply, answered by floor.ts. */
export async function runFloor(context: BenchContext, run: FloorRun): Promise<FloorResult> {
  const { n, pinAgent, template } = run;
  context.log(`floor: N=${n}, ${pinAgent ? 'one shared agent' : "client-node's agent per request"}`);
  const cluster: BenchCluster = await startCluster(context);
  const { kube } = cluster;
  try {
    await createNamespace(kube, NAMESPACE);
    const options: FloorOptions = {
      kubeconfigPath: cluster.controlPlane.kubeconfigPath,
      namespace: NAMESPACE,
      workers: context.workers,
      pinAgent,
      template,
    };
    const child = fork(join(import.meta.dirname, '../floor.ts'), [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let failure: string | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (message: FloorMessage) => {
          if (message.kind === 'ready') resolve();
          else {
            failure = message.message;
            reject(new Error(`floor: ${message.message}`));
          }
        });
        child.once('exit', (code) => {
          reject(new Error(`the floor exited (${String(code)})`));
        });
      });
      const tracker = await trackReady(kube, NAMESPACE);
      const before = await snapshot(cluster, undefined, undefined);
      const times = await applyBurst(context, kube, n, tracker);
      const after = await snapshot(cluster, undefined, undefined);
      context.log(`  all Ready in ${times.totalMs} ms (apply ${times.applyMs} ms), p99 ${times.p99Ms} ms`);
      return { n, pinAgent, ...times, cost: cost(before, after) };
    } finally {
      if (failure === undefined) child.kill('SIGTERM');
      await new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
        else child.once('exit', resolve);
      });
    }
  } finally {
    await cluster.stop();
  }
}
