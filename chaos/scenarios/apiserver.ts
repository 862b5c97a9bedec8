// Fault 3: kube-apiserver killed (-9) and restarted in the middle of a burst, then an etcd compaction
// that answers 410 Gone to every watch resuming from before it. Credentials changed while the
// operator's watches are down (right after the API server is back, before the operator reconnected)
// and again just before a compaction must be applied afterwards: no missed update.
import type { BenchContext } from '../../bench/context.ts';
import { paths } from '../../bench/kube.ts';
import { sleep } from '../../bench/stats.ts';
import { compactEtcd } from '../../tools/controlplane/controlplane.ts';
import { guarantee, list, measure, type ScenarioOutcome } from '../outcome.ts';
import type { Random } from '../random.ts';
import {
  createConnections,
  createCredentials,
  inventory,
  NAMESPACE,
  planConnections,
  readiness,
  sampleReady,
  startWorld,
  tokenConnectionsOf,
  waitAllReady,
  type World,
} from '../world.ts';

export interface ApiServerRun {
  n: number;
}

async function changeApiKey(world: World, connection: string, value: string): Promise<void> {
  await world.kube.json(`${paths.secrets(NAMESPACE)}/${connection}-credentials`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({ stringData: { apiKey: value } }),
  });
}

/** Whether the connection's target Secret publishes `value` (under any key). */
async function publishes(world: World, connection: string, value: string): Promise<boolean> {
  const secret = await world.kube
    .json<{ data?: Record<string, string> }>(`${paths.secrets(NAMESPACE)}/${connection}-token`)
    .catch(() => undefined);
  return Object.values(secret?.data ?? {}).some((v) => Buffer.from(v, 'base64').toString() === value);
}

export async function runApiServer(
  context: BenchContext,
  random: Random,
  run: ApiServerRun,
): Promise<ScenarioOutcome> {
  const started = Date.now();
  context.log(`kube-apiserver restart and etcd compaction: ${run.n} connections (seed ${random.seed})`);
  const planned = planConnections(run.n, random, 0.5);
  const world = await startWorld(context, {
    audiences: tokenConnectionsOf(planned),
    accessTokenTtlSeconds: 3600,
  });
  try {
    const keys = planned.filter((c) => c.kind === 'api-key');
    const changed = [keys[random.int(0, keys.length - 1)], keys[random.int(0, keys.length - 1)]].map(
      (c) => c?.name ?? '',
    );
    const [duringOutage = '', beforeCompaction = ''] = changed;
    await createCredentials(world, planned, context.applyConcurrency);
    const operator = await world.start('apiserver');
    await operator.waitReady();
    const sampler = await sampleReady(world.kube, started);
    const half = Math.floor(planned.length / 2);
    await createConnections(world, planned.slice(0, half), context.applyConcurrency);
    const marks: { at: number; label: string }[] = [];
    marks.push({ at: (Date.now() - started) / 1000, label: 'apiserver killed' });
    const downAt = Date.now();
    await world.cluster.controlPlane.restartApiServer({ downMs: 3000 });
    const backAt = Date.now();
    // The operator's watches reconnect with a backoff (from 800 ms): change credentials now, then
    // compact, so that a resume from before the change is answered 410 Gone.
    await changeApiKey(world, duringOutage, 'changed-during-the-outage');
    await compactEtcd(world.cluster.controlPlane.etcdUrl);
    await createConnections(world, planned.slice(half), context.applyConcurrency);
    const allReady = await waitAllReady(world.kube, run.n, 5 * 60_000);
    // A compaction under live watches, right after a change.
    await changeApiKey(world, beforeCompaction, 'changed-before-a-compaction');
    await compactEtcd(world.cluster.controlPlane.etcdUrl);
    marks.push({ at: (Date.now() - started) / 1000, label: 'compaction' });
    let outageApplied = false;
    let compactionApplied = false;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !(outageApplied && compactionApplied)) {
      outageApplied = await publishes(world, duringOutage, 'changed-during-the-outage');
      compactionApplied =
        beforeCompaction === duringOutage ||
        (await publishes(world, beforeCompaction, 'changed-before-a-compaction'));
      await sleep(250);
    }
    // The same key changed twice: the second change wins.
    if (beforeCompaction === duringOutage) {
      outageApplied = true;
      compactionApplied = await publishes(world, beforeCompaction, 'changed-before-a-compaction');
    }
    const [ready, secrets, stats] = await Promise.all([
      readiness(world.kube),
      inventory(world.kube, planned),
      world.oauth.stats(),
    ]);
    await operator.stop();
    const curve = await sampler.stop();
    const invalidGrants = stats.errors.invalid_grant ?? 0;
    const tokenRequests = stats.log.length;
    context.log(
      `  ${ready.ready}/${run.n} Ready; change during the outage applied: ${outageApplied}, before a compaction: ${compactionApplied}; ${tokenRequests} token requests`,
    );
    return {
      scenario: 'apiserver',
      fault: `kube-apiserver kill -9 + restart mid-burst of ${run.n}, etcd compactions (410 Gone)`,
      seed: random.seed,
      durationMs: Date.now() - started,
      figures: {
        downMs: backAt - downAt,
        allReadyAfterBackMs: allReady === undefined ? undefined : allReady - backAt,
        tokenRequests,
        errors: stats.errors,
        changed,
      },
      checks: [
        guarantee('every connection Ready afterwards', `${run.n}`, `${ready.ready}`, ready.ready === run.n),
        guarantee(
          'credentials changed during the outage: applied after it',
          'applied',
          outageApplied ? 'applied' : 'MISSED',
          outageApplied,
        ),
        guarantee(
          'credentials changed before a compaction: applied after it',
          'applied',
          compactionApplied ? 'applied' : 'MISSED',
          compactionApplied,
        ),
        guarantee(
          'target Secrets missing or duplicated',
          '0',
          list([...secrets.missingTargets, ...secrets.duplicatedTargets]),
          secrets.missingTargets.length + secrets.duplicatedTargets.length === 0,
        ),
        guarantee(
          'token requests (OAuth server count)',
          `<= ${tokenConnectionsOf(planned)}`,
          tokenRequests,
          tokenRequests <= tokenConnectionsOf(planned),
        ),
        guarantee('invalid_grant answered', '0', invalidGrants, invalidGrants === 0),
        measure(
          'all Ready after the API server was back',
          '-',
          allReady === undefined ? 'not within 5 min' : `${((allReady - backAt) / 1000).toFixed(1)} s`,
          allReady !== undefined,
        ),
      ],
      curve,
      marks,
      logs: [operator.logFile],
    };
  } finally {
    await world.stop();
  }
}
