// Fault 4, the OAuth server misbehaving, on one control plane in phases (N client-credentials
// connections with short tokens on the main server, and B more on a second server, another host):
// - black hole: the second server accepts token requests and never answers; the main connections must
//   not be slowed (per-host isolation): their renewal lead time against a baseline phase, and no moment
//   with an expired token;
// - down for longer than a token lifetime: every connection turns Expired with a reason, then Ready
//   again once the server is back (within one backoff cap);
// - 5xx flapping: half the token requests answered 503 (seeded), then calm: all Ready;
// - a 429 storm with Retry-After: no request arrives while the server's Retry-After runs, all Ready after.
// Run with the operator's default per-host token budget (what isolates hosts).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../../bench/context.ts';

import { forEachConcurrent, paths } from '../../bench/kube.ts';
import { audienceOf, CLIENT_ID, SCOPE, startOAuthServer } from '../../bench/oauth.ts';
import { renewalFigures } from '../../bench/scenarios/tokens.ts';
import { sleep } from '../../bench/stats.ts';
import { watchTokens } from '../../bench/watch.ts';
import { guarantee, list, measure, type ScenarioOutcome } from '../outcome.ts';
import type { Random } from '../random.ts';
import { NAMESPACE, readiness, sampleReady, startWorld, waitAllReady, watchConditions } from '../world.ts';

export interface OAuthFaultsRun {
  n: number;
  ttlSeconds: number;
}

/** The connections' reconcile backoff cap (src/reconcilers/vault-connection: RETRY_MAX_MS). */
const BACKOFF_CAP_MS = 5 * 60_000;
const BLACK_HOLE_CONNECTIONS = 10;

export async function runOAuthFaults(
  context: BenchContext,
  random: Random,
  run: OAuthFaultsRun,
): Promise<ScenarioOutcome[]> {
  const started = Date.now();
  const ttlMs = run.ttlSeconds * 1000;
  context.log(
    `OAuth faults: ${run.n} connections with ${run.ttlSeconds} s tokens, ${BLACK_HOLE_CONNECTIONS} on a second host (seed ${random.seed})`,
  );
  const world = await startWorld(context, {
    audiences: run.n,
    accessTokenTtlSeconds: run.ttlSeconds,
    defaultBudget: true,
  });
  // Its own directory: each server writes its CA as oauth-ca.pem.
  const secondDir = join(world.cluster.controlPlane.dir, 'second-oauth');
  await mkdir(secondDir, { recursive: true });
  const second = await startOAuthServer({
    audiences: Array.from({ length: BLACK_HOLE_CONNECTIONS }, (_, i) => audienceOf(i)),
    accessTokenTtlSeconds: run.ttlSeconds,
    dir: secondDir,
  });
  const outcomes: ScenarioOutcome[] = [];
  try {
    const { kube, oauth } = world;
    // One CA bundle for both servers.
    const caFile = join(world.cluster.controlPlane.dir, 'chaos-cas.pem');
    await writeFile(
      caFile,
      `${await readFile(oauth.caFile, 'utf8')}\n${await readFile(second.caFile, 'utf8')}`,
    );
    await kube.create(paths.oauthClients(NAMESPACE), {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'second' },
      spec: {
        issuer: second.issuer,
        authMethod: 'client_secret_post',
        clientId: CLIENT_ID,
        clientSecretRef: { name: 'bench-client', key: 'clientSecret' },
      },
    });
    const main = Array.from({ length: run.n }, (_, i) => `main-${String(i).padStart(3, '0')}`);
    const other = Array.from(
      { length: BLACK_HOLE_CONNECTIONS },
      (_, i) => `other-host-${String(i).padStart(2, '0')}`,
    );
    const operator = await world.start('oauth-faults', [], { caFile });
    await operator.waitReady();
    const sampler = await sampleReady(kube, started);
    const conditions = await watchConditions(kube);
    const tokens = await watchTokens(kube, NAMESPACE);
    const connection = (name: string, client: string, audience: string) => ({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name },
      spec: { type: 'oauth2', oauthClientRef: { name: client }, oauth2: { audience, scopes: [SCOPE] } },
    });
    await forEachConcurrent(
      [
        ...main.map((name, i) => connection(name, 'bench', audienceOf(i))),
        ...other.map((name, i) => connection(name, 'second', audienceOf(i))),
      ],
      context.applyConcurrency,
      (object) => kube.create(paths.vaultConnections(NAMESPACE), object),
    );
    const all = run.n + BLACK_HOLE_CONNECTIONS;
    if ((await waitAllReady(kube, all, 120_000)) === undefined) {
      throw new Error(`not all Ready before the faults: ${JSON.stringify((await readiness(kube)).notReady)}`);
    }
    const marks: { at: number; label: string }[] = [];
    const mark = (label: string) => marks.push({ at: (Date.now() - started) / 1000, label });
    const mainFigures = (from: number, to: number) => {
      const mainTokens = {
        published: new Map([...tokens.published].filter(([name]) => name.startsWith('main-'))),
        stop: () => tokens.stop(),
      };
      return renewalFigures(mainTokens, from, to);
    };
    const phase = (
      scenario: string,
      fault: string,
      from: number,
      checks: ScenarioOutcome['checks'],
      figures: Record<string, unknown>,
    ) => {
      outcomes.push({
        scenario,
        fault,
        seed: random.seed,
        durationMs: Date.now() - from,
        figures,
        checks,
        curve: [],
        marks: [],
        logs: [operator.logFile],
      });
    };

    // Baseline, then the black hole on the second host.
    const window = 3 * ttlMs;
    const baselineFrom = Date.now();
    await sleep(window);
    const baseline = mainFigures(baselineFrom, Date.now());
    mark('black hole');
    await second.fault({ kind: 'black-hole' });
    const holeFrom = Date.now();
    await sleep(window);
    const hole = mainFigures(holeFrom, Date.now());
    await second.fault({ kind: 'none' });
    const otherAfter = await waitAllReady(kube, all, BACKOFF_CAP_MS + 30_000);
    context.log(
      `  black hole: main min lead ${String(hole.minLeadMs)} ms (baseline ${String(baseline.minLeadMs)} ms), ${hole.expiredMoments} expired moments`,
    );
    phase(
      'oauth-black-hole',
      `a token endpoint that accepts and never answers (${BLACK_HOLE_CONNECTIONS} connections on it)`,
      holeFrom,
      [
        // A measure, not a guarantee: with 6 s tokens the renewal window is 2 s, and a caller queued
        // for the black-holed host holds a worker up to the budget wait (2 s); see docs/reliability.md.
        measure(
          'moments a connection on another host held an expired token',
          '0',
          hole.expiredMoments,
          hole.expiredMoments === 0,
        ),
        guarantee(
          'renewals of connections on other hosts during it',
          '> 0',
          hole.refreshes,
          hole.refreshes > 0,
        ),
        measure(
          'their smallest renewal lead (baseline)',
          `~ baseline ${String(baseline.minLeadMs)} ms`,
          `${String(hole.minLeadMs)} ms`,
          (hole.minLeadMs ?? -1) >= 0.5 * (baseline.minLeadMs ?? 0),
        ),
        guarantee(
          'all Ready once it answers again',
          `${all}`,
          otherAfter === undefined ? 'no' : 'yes',
          otherAfter !== undefined,
        ),
      ],
      { baseline, hole },
    );

    // Down for longer than a token lifetime.
    mark('down');
    const downFrom = Date.now();
    await oauth.unavailable();
    await sleep(2 * ttlMs + 2000);
    const downTo = Date.now();
    await oauth.available();
    mark('back');
    const recovered = await waitAllReady(kube, all, BACKOFF_CAP_MS + 30_000);
    const expired = conditions.seen('Expired', 'True', downFrom, downTo + 1000);
    const expiredMain = main.filter((name) => expired.has(name));
    const reasons = new Set([...expired.values()].flatMap((set) => [...set]));
    const recoveryMs = recovered === undefined ? undefined : recovered - downTo;
    context.log(
      `  down: ${expiredMain.length}/${run.n} seen Expired (${[...reasons].join(', ')}), all Ready ${String(recoveryMs)} ms after it came back`,
    );
    phase(
      'oauth-down',
      `token endpoint down ${((downTo - downFrom) / 1000).toFixed(0)} s (token lifetime ${run.ttlSeconds} s)`,
      downFrom,
      [
        guarantee(
          'connections seen Expired=True during the outage',
          `${run.n}`,
          `${expiredMain.length}`,
          expiredMain.length === run.n,
        ),
        guarantee(
          'Expired reasons name the cause',
          'EndpointUnreachable',
          [...reasons].join(', ') || '-',
          reasons.size > 0 && [...reasons].every((r) => r === 'EndpointUnreachable'),
        ),
        guarantee(
          'all Ready after it returns',
          `${all}`,
          recovered === undefined ? list(Object.keys((await readiness(kube)).notReady)) : `${all}`,
          recovered !== undefined,
        ),
        measure(
          'back to all Ready after it returned',
          `<= backoff cap ${BACKOFF_CAP_MS / 1000} s`,
          recoveryMs === undefined ? '-' : `${(recoveryMs / 1000).toFixed(1)} s`,
          recoveryMs !== undefined && recoveryMs <= BACKOFF_CAP_MS,
        ),
      ],
      { recoveryMs, expiredReasons: [...reasons] },
    );

    // 5xx flapping.
    mark('5xx');
    const flapFrom = Date.now();
    await oauth.fault({ kind: 'status', status: 503, ratio: 0.5, seed: random.fork() });
    await sleep(window);
    await oauth.fault({ kind: 'none' });
    const flapTo = Date.now();
    const flapping = mainFigures(flapFrom, flapTo);
    const flapRecovered = await waitAllReady(kube, all, BACKOFF_CAP_MS + 30_000);
    const flapLog = (await oauth.stats()).log.filter(
      (e) => e.receivedAt >= flapFrom && e.receivedAt <= flapTo,
    );
    context.log(
      `  5xx: ${flapLog.filter((e) => e.fault === true).length} of ${flapLog.length} requests answered 503; ${flapping.expiredMoments} expired moments`,
    );
    phase(
      'oauth-5xx',
      `5xx flapping: half the token requests answered 503 for ${(window / 1000).toFixed(0)} s`,
      flapFrom,
      [
        guarantee(
          'all Ready after the flapping',
          `${all}`,
          flapRecovered === undefined ? 'no' : 'yes',
          flapRecovered !== undefined,
        ),
        measure(
          'moments a Secret held an expired token',
          '0 (retries within the renewal window)',
          flapping.expiredMoments,
          flapping.expiredMoments === 0,
        ),
      ],
      { flapping, requests: flapLog.length, answered503: flapLog.filter((e) => e.fault === true).length },
    );

    // A 429 storm with Retry-After.
    const retryAfterSeconds = 2;
    mark('429');
    const stormFrom = Date.now();
    await oauth.fault({ kind: 'status', status: 429, retryAfterSeconds, ratio: 1, seed: random.fork() });
    await sleep(2 * ttlMs);
    await oauth.fault({ kind: 'none' });
    const stormTo = Date.now();
    const stormRecovered = await waitAllReady(kube, all, BACKOFF_CAP_MS + 30_000);
    const stormLog = (await oauth.stats()).log.filter(
      (e) => e.receivedAt >= stormFrom && e.receivedAt <= stormTo,
    );
    const answered429 = stormLog.filter((e) => e.status === 429).map((e) => e.answeredAt ?? e.receivedAt);
    // A request that arrives while a Retry-After the operator had already received still runs (300 ms
    // for the answer to travel and the hold to take effect).
    const tolerance = 300;
    const early = stormLog.filter((e) =>
      answered429.some(
        (a) => e.receivedAt > a + tolerance && e.receivedAt < a + retryAfterSeconds * 1000 - tolerance,
      ),
    ).length;
    context.log(`  429: ${stormLog.length} requests during the storm, ${early} inside a Retry-After`);
    phase(
      'oauth-429',
      `429 storm with Retry-After: ${retryAfterSeconds} s for ${((stormTo - stormFrom) / 1000).toFixed(0)} s`,
      stormFrom,
      [
        guarantee(
          'all Ready after the storm',
          `${all}`,
          stormRecovered === undefined ? 'no' : 'yes',
          stormRecovered !== undefined,
        ),
        measure(
          'requests arriving inside a Retry-After already answered',
          '0',
          `${early} of ${stormLog.length}`,
          early === 0,
        ),
      ],
      { requests: stormLog.length, insideRetryAfter: early },
    );
    await Promise.all([conditions.stop(), tokens.stop()]);
    await operator.stop();
    const curve = await sampler.stop();
    // The chart shows the whole run on the first of the four outcomes.
    const first = outcomes[0];
    if (first !== undefined) {
      first.curve = curve;
      first.marks = marks;
    }
    return outcomes;
  } finally {
    await second.stop();
    await world.stop();
  }
}
