// Fault 1: kill -9 of the operator at random moments during a burst of N connections (client
// credentials, rotating refresh tokens, static API keys), K times, each killed process replaced at
// once (as a Deployment would). Afterwards, from the servers: every connection Ready; one target
// Secret per connection, none missing; no orphaned state Secret; the OAuth server answered no
// invalid_grant (a rotated refresh token used again); token requests at most N plus those in flight
// when a process was killed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../../bench/context.ts';
import type { OperatorProcess } from '../../bench/operator-process.ts';
import { sleep } from '../../bench/stats.ts';
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
  waitAllSettled,
  watchRotations,
} from '../world.ts';

export interface KillRun {
  n: number;
  kills: number;
  /** Kills are spread at random over this window after the burst starts (ms between kills, min-max). */
  gapMs: [number, number];
}

export async function runKill(context: BenchContext, random: Random, run: KillRun): Promise<ScenarioOutcome> {
  const started = Date.now();
  context.log(`kill -9: ${run.n} connections, ${run.kills} kills (seed ${random.seed})`);
  const planned = planConnections(run.n, random);
  const tokenConnections = tokenConnectionsOf(planned);
  const world = await startWorld(context, { audiences: tokenConnections, accessTokenTtlSeconds: 3600 });
  const logs: string[] = [];
  try {
    await createCredentials(world, planned, context.applyConcurrency);
    const rotations = await watchRotations(world.kube);
    let operator: OperatorProcess = await world.start('kill-0');
    logs.push(operator.logFile);
    await operator.waitReady();
    const sampler = await sampleReady(world.kube, started);
    const killTimes: number[] = [];
    const burst = createConnections(world, planned, context.applyConcurrency);
    for (let k = 1; k <= run.kills; k++) {
      await sleep(random.int(run.gapMs[0], run.gapMs[1]));
      killTimes.push(Date.now());
      await operator.kill();
      operator = await world.start(`kill-${k}`);
      logs.push(operator.logFile);
    }
    await burst;
    // Ready, or stopped for a person (ReauthorizationRequired): whether that one is explained is below.
    const settledAt = await waitAllSettled(world.kube, run.n, 10 * 60_000);
    // Whatever the last reconciles still send (rotations, Events) lands before counting.
    await sleep(3000);
    const [ready, secrets, stats] = await Promise.all([
      readiness(world.kube),
      inventory(world.kube, planned),
      world.oauth.stats(),
    ]);
    await operator.stop();
    await rotations.stop();
    const curve = await sampler.stop();
    const requests = stats.log.filter((e) => e.fault !== true);
    // The server's view, for a post-mortem beside the operators' logs.
    await writeFile(join(context.dir, 'kill-token-log.json'), JSON.stringify({ killTimes, requests }));
    const inFlight = killTimes.reduce((sum, at) => sum + inFlightAt(requests, at), 0);
    const invalidGrants = stats.errors.invalid_grant ?? 0;
    const lost = lostRotations(requests, killTimes, rotations);
    const lostNames = planned
      .filter((c) => c.audience !== undefined && lost.explained.includes(c.audience))
      .map((c) => c.name);
    for (const line of lost.details) context.log(`  invalid_grant: ${line}`);
    // A connection whose rotation died with a process has no token to publish: no target, no state.
    const notLost = (name: string) => !lostNames.includes(name);
    // A connection whose rotation was lost must say so (ReauthorizationRequired), not hang.
    const notReadyUnexplained = Object.entries(ready.notReady)
      .filter(([name, reason]) => !(lostNames.includes(name) && reason === 'ReauthorizationRequired'))
      .map(([name, reason]) => `${name}: ${reason}`);
    const notReady = Object.entries(ready.notReady).map(([name, reason]) => `${name}: ${reason}`);
    context.log(
      `  ${ready.ready}/${run.n} Ready; ${requests.length} token requests for ${tokenConnections} token connections (${inFlight} in flight at the kills); invalid_grant ${invalidGrants}`,
    );
    return {
      scenario: 'kill',
      fault: `kill -9 ×${run.kills} during a burst of ${run.n}`,
      seed: random.seed,
      durationMs: Date.now() - started,
      figures: {
        n: run.n,
        kills: run.kills,
        tokenConnections,
        tokenRequests: requests.length,
        inFlightAtKills: inFlight,
        errors: stats.errors,
        lostRotations: lostNames,
        invalidGrants: lost.details,
        allSettledMs: settledAt === undefined ? undefined : settledAt - started,
        killTimesMs: killTimes.map((t) => t - started),
      },
      checks: [
        guarantee(
          'every connection Ready afterwards (but those whose rotation was lost at a kill, which say ReauthorizationRequired)',
          `${run.n - lostNames.length}`,
          `${ready.ready}${notReady.length > 0 ? `; not: ${list(notReady)}` : ''}`,
          notReadyUnexplained.length === 0,
        ),
        measure(
          'rotated refresh tokens lost at a kill (the server answered, the process died before writing its state Secret)',
          '0',
          list(lostNames),
          lostNames.length === 0,
        ),
        guarantee(
          'target Secrets missing (but rotations lost at a kill)',
          '0',
          list(secrets.missingTargets.filter(notLost)),
          secrets.missingTargets.filter(notLost).length === 0,
        ),
        guarantee(
          'target Secrets duplicated',
          '0',
          list(secrets.duplicatedTargets),
          secrets.duplicatedTargets.length === 0,
        ),
        guarantee(
          'orphaned state Secrets',
          '0',
          list(secrets.orphanedState),
          secrets.orphanedState.length === 0,
        ),
        guarantee(
          'refresh-token connections without their state Secret (but rotations lost at a kill)',
          '0',
          list(secrets.missingState.filter(notLost)),
          secrets.missingState.filter(notLost).length === 0,
        ),
        guarantee(
          'invalid_grant answered, not explained by a rotation lost at a kill (a reuse coffre caused)',
          '0',
          `${lost.unexplained} (of ${invalidGrants})`,
          lost.unexplained === 0,
        ),
        guarantee(
          'token requests (OAuth server count)',
          `<= ${tokenConnections} + ${inFlight} in flight at the kills`,
          requests.length,
          requests.length <= tokenConnections + inFlight,
        ),
        measure(
          'all settled (Ready, or ReauthorizationRequired) after the burst began',
          '-',
          settledAt === undefined ? 'not within 10 min' : `${((settledAt - started) / 1000).toFixed(1)} s`,
          settledAt !== undefined,
        ),
      ],
      curve,
      marks: killTimes.map((t, i) => ({ at: (t - started) / 1000, label: `kill ${i + 1}` })),
      logs,
    };
  } finally {
    await world.stop();
  }
}
