// Fault 5: resource pressure. N static connections (each with its own credentials Secret) and N/100
// token ones (client credentials and rotating refresh tokens), applied at once: first with an
// unlimited heap, to measure what the operator needs (its peak V8 heap in use, from its /metrics);
// then on a fresh control plane with the heap capped just above that need (--max-old-space-size).
// Capped, it may be slower; it must lose no token (every connection Ready, no invalid_grant, no
// token request beyond one per connection plus those in flight at a crash) and must not crash-loop:
// a process that dies is replaced (as the kubelet would) and counted.
import type { BenchContext } from '../../bench/context.ts';
import { sum } from '../../bench/prom.ts';
import { MiB, sleep } from '../../bench/stats.ts';
import { guarantee, list, measure, type ScenarioOutcome } from '../outcome.ts';
import type { Random } from '../random.ts';
import {
  createConnections,
  createCredentials,
  inFlightAt,
  inventory,
  lostRotations,
  planConnections,
  readiness,
  sampleReady,
  startWorld,
  tokenConnectionsOf,
  type PlannedConnection,
  watchRotations,
} from '../world.ts';

export interface PressureRun {
  n: number;
}

/** The cap: this much above the measured need. */
const HEADROOM = 1.1;
const CRASH_LOOP = 3;

interface Pass {
  allReadyMs: number | undefined;
  peakHeapBytes: number;
  restarts: number;
  crashTimes: number[];
  ready: number;
  notReady: Record<string, string>;
  missing: string[];
  tokenRequests: number;
  inFlightAtCrashes: number;
  invalidGrants: number;
  /** invalid_grant answers not explained by a rotation in flight at a crash. */
  unexplainedInvalidGrants: number;
  lostNames: string[];
  curve: [number, number][];
  logs: string[];
}

async function pass(
  context: BenchContext,
  label: string,
  planned: readonly PlannedConnection[],
  heapCapMiB: number | undefined,
  started: number,
): Promise<Pass> {
  const world = await startWorld(context, {
    audiences: tokenConnectionsOf(planned),
    accessTokenTtlSeconds: 3600,
  });
  try {
    await createCredentials(world, planned, context.applyConcurrency);
    const rotations = await watchRotations(world.kube);
    const nodeFlags = heapCapMiB === undefined ? [] : [`--max-old-space-size=${heapCapMiB}`];
    const logs: string[] = [];
    let restarts = 0;
    const crashTimes: number[] = [];
    let operator = await world.start(`pressure-${label}-0`, [], { nodeFlags });
    logs.push(operator.logFile);
    await operator.waitReady();
    const sampler = await sampleReady(world.kube, started);
    const from = Date.now();
    const burst = createConnections(world, planned, context.applyConcurrency);
    let peakHeapBytes = 0;
    let allReadyAt: number | undefined;
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      if (!operator.alive()) {
        // Replaced, as the kubelet would (without its backoff: a crash loop shows as the count).
        crashTimes.push(Date.now());
        restarts++;
        if (restarts >= CRASH_LOOP) break;
        operator = await world.start(`pressure-${label}-${restarts}`, [], { nodeFlags });
        logs.push(operator.logFile);
      }
      const samples = await operator.metrics().catch(() => []);
      peakHeapBytes = Math.max(peakHeapBytes, sum(samples, 'coffre_nodejs_heap_size_used_bytes'));
      // Ready, or stopped for a person (a rotation lost at a crash: whether explained is checked after).
      const { ready, notReady } = await readiness(world.kube);
      const stopped = Object.values(notReady).filter((reason) => reason === 'ReauthorizationRequired').length;
      if (ready + stopped >= planned.length) {
        allReadyAt = Date.now();
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(500);
    }
    await burst.catch(() => undefined);
    await sleep(2000);
    const [ready, secrets, stats] = await Promise.all([
      readiness(world.kube),
      inventory(world.kube, planned),
      world.oauth.stats(),
    ]);
    await operator.stop();
    await rotations.stop();
    const requests = stats.log.filter((e) => e.fault !== true);
    const lost = lostRotations(requests, crashTimes, rotations);
    for (const line of lost.details) context.log(`  invalid_grant: ${line}`);
    const lostNames = planned
      .filter((c) => c.audience !== undefined && lost.explained.includes(c.audience))
      .map((c) => c.name);
    return {
      allReadyMs: allReadyAt === undefined ? undefined : allReadyAt - from,
      peakHeapBytes,
      restarts,
      crashTimes,
      ready: ready.ready,
      notReady: ready.notReady,
      // A connection whose rotation died with a process has no token to publish.
      missing: secrets.missingTargets.filter((name) => !lostNames.includes(name)),
      tokenRequests: requests.length,
      inFlightAtCrashes: crashTimes.reduce((n, at) => n + inFlightAt(requests, at), 0),
      invalidGrants: stats.errors.invalid_grant ?? 0,
      unexplainedInvalidGrants: lost.unexplained,
      lostNames,
      curve: await sampler.stop(),
      logs,
    };
  } finally {
    await world.stop();
  }
}

export async function runPressure(
  context: BenchContext,
  random: Random,
  run: PressureRun,
): Promise<ScenarioOutcome> {
  const started = Date.now();
  const tokenCount = Math.max(2, Math.round(run.n / 100));
  context.log(
    `resource pressure: ${run.n} static + ${tokenCount} token connections, heap capped near the need (seed ${random.seed})`,
  );
  const tokens = planConnections(tokenCount, random, 1);
  const statics = planConnections(run.n, random, 0).map((c, i) => ({
    ...c,
    name: `static-${String(i).padStart(5, '0')}`,
  }));
  const planned = [...tokens, ...statics];
  const free = await pass(context, 'free', planned, undefined, started);
  const capMiB = Math.ceil((free.peakHeapBytes * HEADROOM) / MiB);
  context.log(
    `  unlimited: all Ready in ${String(free.allReadyMs)} ms, peak heap ${Math.round(free.peakHeapBytes / MiB)} MiB; now capped at ${capMiB} MiB`,
  );
  const capped = await pass(context, 'capped', planned, capMiB, started);
  const tokenConnections = tokenConnectionsOf(planned);
  context.log(
    `  capped: all Ready in ${String(capped.allReadyMs)} ms, ${capped.restarts} restarts, ${capped.ready}/${planned.length} Ready`,
  );
  const slower =
    free.allReadyMs !== undefined && capped.allReadyMs !== undefined
      ? capped.allReadyMs / free.allReadyMs
      : undefined;
  return {
    scenario: 'pressure',
    fault: `heap capped at ${capMiB} MiB (${HEADROOM}× the measured need) with ${planned.length} connections`,
    seed: random.seed,
    durationMs: Date.now() - started,
    figures: { free, capped: { ...capped, curve: undefined }, capMiB },
    checks: [
      guarantee(
        'crash loop (processes replaced after dying)',
        `< ${CRASH_LOOP}`,
        capped.restarts,
        capped.restarts < CRASH_LOOP,
      ),
      guarantee(
        'every connection Ready, capped',
        `${planned.length}`,
        `${capped.ready}${Object.keys(capped.notReady).length > 0 ? `; not: ${list(Object.keys(capped.notReady))}` : ''}`,
        capped.ready === planned.length - capped.lostNames.length,
      ),
      guarantee(
        'target Secrets missing, capped (but rotations lost at a crash)',
        '0',
        list(capped.missing),
        capped.missing.length === 0,
      ),
      guarantee(
        'invalid_grant answered, not explained by a rotation lost at a crash',
        '0',
        `${capped.unexplainedInvalidGrants} (of ${capped.invalidGrants})`,
        capped.unexplainedInvalidGrants === 0,
      ),
      measure(
        'rotated refresh tokens lost at a crash',
        '0',
        list(capped.lostNames),
        capped.lostNames.length === 0,
      ),
      guarantee(
        'token requests, capped',
        `<= ${tokenConnections} + ${capped.inFlightAtCrashes} in flight at crashes`,
        capped.tokenRequests,
        capped.tokenRequests <= tokenConnections + capped.inFlightAtCrashes,
      ),
      measure(
        'all Ready, capped against unlimited',
        'slower is allowed',
        slower === undefined
          ? '-'
          : `${((capped.allReadyMs ?? 0) / 1000).toFixed(1)} s vs ${((free.allReadyMs ?? 0) / 1000).toFixed(1)} s (${slower.toFixed(2)}×)`,
        capped.allReadyMs !== undefined,
      ),
    ],
    curve: capped.curve,
    marks: capped.crashTimes.map((t, i) => ({ at: (t - started) / 1000, label: `crash ${i + 1}` })),
    logs: [...free.logs, ...capped.logs],
  };
}
