// Fault 2: leader failover. Two replicas with leader election (short lease: 4 s), N token connections
// (client credentials and rotating refresh tokens) with short tokens, so that renewals run all the
// time; the leader is killed (-9) K times at random moments, and replaced. From the OAuth server's
// log: no connection refreshed twice for one renewal (two requests for one audience closer than a
// third of a lifetime), except a request the killed leader had in flight (its token was never
// persisted); 0 invalid_grant; from the Lease: the handover time, against lease duration + 1 s.
import type { BenchContext } from '../../bench/context.ts';
import { createNamespace } from '../../bench/kube.ts';
import type { OperatorProcess } from '../../bench/operator-process.ts';
import { sleep } from '../../bench/stats.ts';
import { guarantee, list, measure, type ScenarioOutcome } from '../outcome.ts';
import type { Random } from '../random.ts';
import {
  createConnections,
  createCredentials,
  inFlightAt,
  lostRotations,
  planConnections,
  readiness,
  sampleReady,
  startWorld,
  tokenConnectionsOf,
  waitAllReady,
  watchRotations,
} from '../world.ts';

export interface FailoverRun {
  n: number;
  failovers: number;
}

const LEASE_NAMESPACE = 'chaos-leader';
const LEASE_SECONDS = 4;
const TTL_SECONDS = 6;

export async function runFailover(
  context: BenchContext,
  random: Random,
  run: FailoverRun,
): Promise<ScenarioOutcome> {
  const started = Date.now();
  context.log(
    `leader failover: 2 replicas, ${run.n} connections with ${TTL_SECONDS} s tokens, ${run.failovers} leader kills (seed ${random.seed})`,
  );
  const planned = planConnections(run.n, random, 1);
  const world = await startWorld(context, {
    audiences: tokenConnectionsOf(planned),
    accessTokenTtlSeconds: TTL_SECONDS,
  });
  const logs: string[] = [];
  const replicas = new Map<string, OperatorProcess>();
  try {
    await createNamespace(world.kube, LEASE_NAMESPACE);
    const start = async (identity: string) => {
      const replica = await world.start(`failover-${identity}`, [
        '--leader-elect=true',
        `--leader-election-namespace=${LEASE_NAMESPACE}`,
        `--leader-election-identity=${identity}`,
        `--lease-duration=${LEASE_SECONDS}s`,
        '--lease-renew-deadline=3s',
        '--lease-retry-period=500ms',
      ]);
      logs.push(replica.logFile);
      replicas.set(identity, replica);
      return replica;
    };
    const holder = async () => {
      const lease = await world.kube
        .json<{ spec?: { holderIdentity?: string } }>(
          `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/coffre-leader`,
        )
        .catch(() => undefined);
      return lease?.spec?.holderIdentity;
    };
    await start('replica-0');
    await start('replica-1');
    await createCredentials(world, planned, context.applyConcurrency);
    const rotations = await watchRotations(world.kube);
    const sampler = await sampleReady(world.kube, started);
    await createConnections(world, planned, context.applyConcurrency);
    await waitAllReady(world.kube, run.n, 5 * 60_000);
    const kills: number[] = [];
    const handovers: number[] = [];
    let next = 2;
    for (let k = 0; k < run.failovers; k++) {
      await sleep(random.int(1000, 2 * TTL_SECONDS * 1000));
      const leader = await holder();
      const process = leader === undefined ? undefined : replicas.get(leader);
      if (leader === undefined || process === undefined) continue;
      const killedAt = Date.now();
      await process.kill();
      replicas.delete(leader);
      kills.push(killedAt);
      // The replacement (a new pod, a new identity) comes up while the survivor takes over.
      const replacement = start(`replica-${next++}`);
      for (;;) {
        const now = await holder();
        if (now !== undefined && now !== leader) break;
        if (Date.now() - killedAt > 60_000) break;
        await sleep(50);
      }
      handovers.push(Date.now() - killedAt);
      await replacement;
    }
    await sleep(2 * TTL_SECONDS * 1000);
    const ready = await readiness(world.kube);
    const stats = await world.oauth.stats();
    for (const replica of replicas.values()) await replica.stop();
    await rotations.stop();
    const curve = await sampler.stop();

    // Renewals per audience, from the server's log: two within a third of a lifetime is one renewal twice.
    const byAudience = new Map<string, { receivedAt: number; answeredAt?: number }[]>();
    for (const entry of stats.log) {
      if (entry.fault === true || entry.audience === undefined) continue;
      let entries = byAudience.get(entry.audience);
      if (entries === undefined) byAudience.set(entry.audience, (entries = []));
      entries.push(entry);
    }
    let doubles = 0;
    let explained = 0;
    const doubled: string[] = [];
    for (const [audience, entries] of byAudience) {
      entries.sort((a, b) => a.receivedAt - b.receivedAt);
      for (let i = 1; i < entries.length; i++) {
        const previous = entries[i - 1];
        const current = entries[i];
        if (previous === undefined || current === undefined) continue;
        if (current.receivedAt - previous.receivedAt >= (TTL_SECONDS * 1000) / 3) continue;
        if (kills.some((at) => inFlightAt([previous], at) > 0)) explained++;
        else {
          doubles++;
          doubled.push(audience);
        }
      }
    }
    const invalidGrants = stats.errors.invalid_grant ?? 0;
    const lost = lostRotations(stats.log, kills, rotations);
    for (const line of lost.details) context.log(`  invalid_grant: ${line}`);
    const lostNames = planned
      .filter((c) => c.audience !== undefined && lost.explained.includes(c.audience))
      .map((c) => c.name);
    const notReadyUnexplained = Object.entries(ready.notReady).filter(
      ([name, reason]) => !(lostNames.includes(name) && reason === 'ReauthorizationRequired'),
    );
    const maxHandover = Math.max(0, ...handovers);
    context.log(
      `  ${kills.length} failovers, handover max ${maxHandover} ms; ${doubles} double refreshes (+${explained} of a killed leader's request in flight); invalid_grant ${invalidGrants}`,
    );
    return {
      scenario: 'failover',
      fault: `leader killed ×${kills.length} (2 replicas, ${run.n} connections, ${TTL_SECONDS} s tokens)`,
      seed: random.seed,
      durationMs: Date.now() - started,
      figures: {
        handoversMs: handovers,
        doubles,
        explainedDoubles: explained,
        tokenRequests: stats.log.length,
        errors: stats.errors,
      },
      checks: [
        guarantee('connections refreshed twice for one renewal', '0', list(doubled), doubles === 0),
        guarantee(
          'invalid_grant answered, not explained by a rotation lost at a kill',
          '0',
          `${lost.unexplained} (of ${invalidGrants})`,
          lost.unexplained === 0,
        ),
        measure('rotated refresh tokens lost at a leader kill', '0', list(lostNames), lostNames.length === 0),
        guarantee(
          'every connection Ready afterwards (but rotations lost at a kill)',
          `${run.n - lostNames.length}`,
          `${ready.ready}`,
          notReadyUnexplained.length === 0,
        ),
        measure('repeated requests of a killed leader in flight', '-', explained, true),
        measure(
          'handover (kill to the new holder in the Lease), max',
          `<= lease ${LEASE_SECONDS} s + 1 s`,
          `${(maxHandover / 1000).toFixed(1)} s`,
          maxHandover <= LEASE_SECONDS * 1000 + 1000,
        ),
      ],
      curve,
      marks: kills.map((t, i) => ({ at: (t - started) / 1000, label: `leader kill ${i + 1}` })),
      logs,
    };
  } finally {
    for (const replica of replicas.values()) await replica.kill();
    await world.stop();
  }
}
