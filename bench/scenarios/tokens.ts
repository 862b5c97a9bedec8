// Scenario 3, steady state: N connections with short-lived tokens renewed over several lifetimes —
// API writes and token requests per refresh (the API server's and the OAuth server's counts), the
// smallest lead time before expiry, and any moment a Secret held an expired token. Scenario 4,
// sharing: N connections on one OAuthClient and one audience — token requests per token lifetime.
import { startCluster } from '../cluster.ts';
import type { BenchContext } from '../context.ts';
import { connectionName, createOAuthClient, tokenConnection } from '../fixtures.ts';
import { createNamespace } from '../kube.ts';
import { audienceOf, startOAuthServer } from '../oauth.ts';
import { operatorOptions, startOperator, type OperatorProcess } from '../operator-process.ts';
import { cost, snapshot, type PhaseCost, type Snapshot } from '../snapshot.ts';
import { round, sleep } from '../stats.ts';
import { trackReady, watchTokens, type TokenWatcher } from '../watch.ts';
import { applyAll, NAMESPACE } from './burst.ts';

export interface RenewalFigures {
  /** Tokens published into Secrets during the window (seen by the bench's watch). */
  refreshes: number;
  /** Writes on the operator's resources per refresh, by the API server's count. */
  writesPerRefresh: number;
  writesPerRefreshByResource: Record<string, number>;
  tokenRequestsPerRefresh: number;
  /** Smallest time between a new token being seen in its Secret and the expiry of the one it replaced. */
  minLeadMs: number | undefined;
  /** Replacements seen only after the previous token had expired, and Secrets expired at the end. */
  expiredMoments: number;
  /** Total time Secrets held an expired token, summed over Secrets. */
  expiredMs: number;
}

export interface SteadyResult extends RenewalFigures {
  n: number;
  ttlSeconds: number;
  windowMs: number;
  cost: PhaseCost;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface SharingResult {
  n: number;
  ttlSeconds: number;
  windowMs: number;
  /** Token requests while the N connections were first made Ready. */
  initialTokenRequests: number;
  /** Token lifetimes in the window. */
  lifetimes: number;
  tokenRequestsPerLifetime: number;
  /** Renewal cycles in the window: new tokens published per connection (renewal comes before expiry). */
  renewals: number;
  /** Token requests per renewal cycle of all N connections: 1 when all N share each new token. */
  tokenRequestsPerRenewal: number;
  expiredMoments: number;
  cost: PhaseCost;
}

/** Lead times and expired moments of the publications seen within [from, to]. */
export function renewalFigures(tokens: TokenWatcher, from: number, to: number) {
  let refreshes = 0;
  let minLeadMs: number | undefined;
  let expiredMoments = 0;
  let expiredMs = 0;
  for (const list of tokens.published.values()) {
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1];
      const current = list[i];
      if (previous === undefined || current === undefined) continue;
      if (current.seenAt < from || current.seenAt > to) continue;
      refreshes++;
      const lead = previous.expiresAt - current.seenAt;
      minLeadMs = minLeadMs === undefined ? lead : Math.min(minLeadMs, lead);
      if (lead < 0) {
        expiredMoments++;
        expiredMs += -lead;
      }
    }
    const last = list[list.length - 1];
    if (last !== undefined && last.expiresAt < to) {
      expiredMoments++;
      expiredMs += to - last.expiresAt;
    }
  }
  return { refreshes, minLeadMs, expiredMoments, expiredMs };
}

export interface SteadyRun {
  n: number;
  ttlSeconds: number;
  lifetimes: number;
}

/** What a token scenario measures with: its window's snapshots and the running parts. */
interface MeasuredWindow {
  before: Snapshot;
  after: Snapshot;
  operator: OperatorProcess;
  tokens: TokenWatcher;
  /** Token requests while the N connections were first made Ready. */
  initialTokenRequests: number;
}

/**
 * N token connections (connection i on `audience(i)`) made Ready on a fresh control plane, one token
 * lifetime to settle into their renewal rhythm, then `lifetimes` lifetimes measured.
 */
async function measureTokenConnections<T>(
  context: BenchContext,
  run: SteadyRun & { name: string; audience: (index: number) => string },
  measure: (window: MeasuredWindow) => Promise<T>,
): Promise<T> {
  const { n, ttlSeconds, lifetimes } = run;
  const cluster = await startCluster(context);
  const { kube } = cluster;
  const oauth = await startOAuthServer({
    audiences: [...new Set(Array.from({ length: n }, (_, i) => run.audience(i)))],
    accessTokenTtlSeconds: ttlSeconds,
    dir: cluster.controlPlane.dir,
  });
  try {
    await createNamespace(kube, NAMESPACE);
    await createOAuthClient(kube, NAMESPACE, oauth.issuer);
    const operator = await startOperator({
      ...operatorOptions(context, cluster.controlPlane.kubeconfigPath, oauth.caFile, context.budgetFlags),
      name: run.name,
    });
    try {
      await operator.waitReady();
      const tracker = await trackReady(kube, NAMESPACE);
      const tokens = await watchTokens(kube, NAMESPACE);
      try {
        const initialBefore = await oauth.tokenRequests();
        const objects = Array.from({ length: n }, (_, i) => ({
          name: connectionName(i),
          object: tokenConnection(connectionName(i), run.audience(i)),
        }));
        await applyAll(kube, NAMESPACE, objects, context.applyConcurrency);
        await tracker.waitForReady(n, 120_000 + n * 100);
        await tracker.stop();
        const initialTokenRequests = (await oauth.tokenRequests()) - initialBefore;
        await sleep(ttlSeconds * 1000);
        const before = await snapshot(cluster, oauth, operator);
        await sleep(lifetimes * ttlSeconds * 1000);
        const after = await snapshot(cluster, oauth, operator);
        return await measure({ before, after, operator, tokens, initialTokenRequests });
      } finally {
        await tokens.stop();
      }
    } finally {
      await operator.stop();
    }
  } finally {
    await oauth.stop();
    await cluster.stop();
  }
}

export async function runSteady(context: BenchContext, run: SteadyRun): Promise<SteadyResult> {
  const { n, ttlSeconds, lifetimes } = run;
  context.log(`steady state: N=${n}, ${ttlSeconds} s tokens, ${lifetimes} lifetimes`);
  const spec = { ...run, name: `steady-n${n}-ttl${ttlSeconds}`, audience: audienceOf };
  return measureTokenConnections(context, spec, async ({ before, after, operator, tokens }) => {
    const [samples, memory] = await Promise.all([operator.metrics(), operator.memory()]);
    const phase = cost(before, after);
    const figures = renewalFigures(tokens, before.at, after.at);
    const per = (value: number) => (figures.refreshes === 0 ? 0 : round(value / figures.refreshes, 2));
    const result: SteadyResult = {
      n,
      ttlSeconds,
      windowMs: after.at - before.at,
      ...figures,
      writesPerRefresh: per(phase.apiServerWritesTotal),
      writesPerRefreshByResource: Object.fromEntries(
        Object.entries(phase.apiServerWrites).map(([key, value]) => [key, per(value)]),
      ),
      tokenRequestsPerRefresh: per(phase.tokenRequests),
      cost: phase,
      rssBytes: memory.rss,
      heapUsedBytes: samples.find((s) => s.name === 'coffre_nodejs_heap_size_used_bytes')?.value ?? 0,
    };
    context.log(
      `  ${figures.refreshes} refreshes: ${result.writesPerRefresh} writes and ${result.tokenRequestsPerRefresh} token requests per refresh; min lead ${String(figures.minLeadMs)} ms; ${figures.expiredMoments} expired moments`,
    );
    return result;
  });
}

export async function runSharing(context: BenchContext, run: SteadyRun): Promise<SharingResult> {
  const { n, ttlSeconds, lifetimes } = run;
  context.log(
    `sharing: N=${n} on one OAuthClient and audience, ${ttlSeconds} s tokens, ${lifetimes} lifetimes`,
  );
  const spec = { ...run, name: `sharing-n${n}-ttl${ttlSeconds}`, audience: () => audienceOf(0) };
  return measureTokenConnections(context, spec, ({ before, after, tokens, initialTokenRequests }) => {
    const phase = cost(before, after);
    const windowMs = after.at - before.at;
    const measuredLifetimes = windowMs / (ttlSeconds * 1000);
    const figures = renewalFigures(tokens, before.at, after.at);
    const result: SharingResult = {
      n,
      ttlSeconds,
      windowMs,
      initialTokenRequests,
      lifetimes: round(measuredLifetimes, 2),
      tokenRequestsPerLifetime: round(phase.tokenRequests / measuredLifetimes, 2),
      renewals: round(figures.refreshes / n, 2),
      tokenRequestsPerRenewal:
        figures.refreshes === 0 ? 0 : round((phase.tokenRequests * n) / figures.refreshes, 2),
      expiredMoments: figures.expiredMoments,
      cost: phase,
    };
    context.log(
      `  ${initialTokenRequests} token request(s) for the first ${n} tokens; then ${result.tokenRequestsPerRenewal} per renewal, ${result.tokenRequestsPerLifetime} per lifetime`,
    );
    return Promise.resolve(result);
  });
}
