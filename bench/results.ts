// The results of one bench run (written as JSON), the targets they are judged against, and the table
// printed at the end.
import type { BurstResult, FloorResult, RestartResult } from './scenarios/burst.ts';
import type { MemoryResult } from './scenarios/memory.ts';
import type { SharingResult, SteadyResult } from './scenarios/tokens.ts';
import { millis, seconds } from './stats.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  kubernetes: string;
  os: string;
}

export interface BenchResults {
  startedAt: string;
  command: string;
  durationMs: number;
  machine: Machine;
  settings: Record<string, unknown>;
  burst: BurstResult[];
  floor: FloorResult[];
  steady?: SteadyResult;
  sharing?: SharingResult;
  memory?: MemoryResult;
  restart?: RestartResult;
  targets: Target[];
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean | undefined;
}

const MB = 1e6;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

/** The coffre/floor ratio at N, without token latency, with the floor's shared agent. */
export function floorRatio(results: Pick<BenchResults, 'burst' | 'floor'>, n: number): number | undefined {
  const coffre = results.burst.find((b) => b.n === n && b.latencyMs === 0 && b.budget === 'lifted');
  const floor = results.floor.find((f) => f.n === n && f.pinAgent);
  if (coffre === undefined || floor === undefined) return undefined;
  return Math.round((coffre.totalMs / floor.totalMs) * 100) / 100;
}

export function judge(results: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ratioN = results.floor.some((f) => f.n === 1000) ? 1000 : results.floor[0]?.n;
  if (ratioN !== undefined) {
    const ratio = floorRatio(results, ratioN);
    targets.push({
      name: `burst total / floor total at N = ${ratioN}`,
      target: '<= 1.5x',
      value: ratio === undefined ? '-' : `${ratio}x`,
      met: ratio === undefined ? undefined : ratio <= 1.5,
    });
  }
  const { steady, sharing, memory, restart } = results;
  if (steady !== undefined) {
    targets.push(
      {
        name: 'steady state: API writes per refresh',
        target: '<= 2',
        value: String(steady.writesPerRefresh),
        met: steady.refreshes > 0 && steady.writesPerRefresh <= 2,
      },
      {
        name: 'steady state: moments a Secret held an expired token',
        target: '0',
        value: String(steady.expiredMoments),
        met: steady.expiredMoments === 0,
      },
    );
  }
  if (sharing !== undefined) {
    targets.push({
      name: 'sharing: token requests per token lifetime (per renewal of all N)',
      target: '1',
      value: `${sharing.tokenRequestsPerRenewal} per renewal (${sharing.tokenRequestsPerLifetime} per TTL)`,
      met: sharing.tokenRequestsPerRenewal <= 1,
    });
  }
  if (memory !== undefined) {
    const worst = Math.max(memory.afterSetup.rssBytes, memory.restarted.rssBytes);
    targets.push(
      {
        name: `memory: RSS with ${memory.connections} connections`,
        target: '<= 150 MB',
        value: `${mb(memory.restarted.rssBytes)} restarted, ${mb(memory.afterSetup.rssBytes)} after creating them`,
        met: worst <= 150 * MB,
      },
      {
        name: `memory: RSS growth with ${memory.unrelatedSecrets} unrelated Secrets`,
        target: '<= 10%',
        value: `${(memory.unrelatedGrowth * 100).toFixed(1)}%`,
        met: memory.unrelatedGrowth <= 0.1,
      },
      {
        name: `memory: RSS growth with ${memory.impostorSecrets} impostor Secrets of ${mb(memory.impostorBytes)} (managed-by=coffre, unknown owner)`,
        target: '<= 10%',
        value: `${(memory.impostorGrowth * 100).toFixed(1)}%`,
        met: memory.impostorGrowth <= 0.1,
      },
    );
  }
  if (restart !== undefined) {
    targets.push(
      {
        name: `restart with ${restart.connections} Ready connections: token requests`,
        target: '0',
        value: String(restart.cost.tokenRequests),
        met: restart.cost.tokenRequests === 0,
      },
      {
        name: `restart with ${restart.connections} Ready connections: Secret and status writes`,
        target: '0',
        value: String(restart.cost.apiServerWritesTotal),
        met: restart.cost.apiServerWritesTotal === 0,
      },
    );
  }
  return targets;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function writes(byKey: Record<string, number>): string {
  const get = (key: string) => byKey[key] ?? 0;
  const secrets = get('POST secrets') + get('PUT secrets');
  const status = get('PATCH vaultconnections/status');
  const events = get('POST events');
  return `${secrets}/${status}/${events}`;
}

/** The printed report: one table per scenario, then the targets. */
export function formatReport(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `coffre bench, ${results.startedAt}: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node}, Kubernetes ${m.kubernetes}`,
    `command: ${results.command}   (ran ${seconds(results.durationMs)})`,
    '',
  );
  if (results.burst.length > 0) {
    out.push('1. Burst: N client-credentials connections applied at once, one token request each');
    out.push(
      table(
        [
          'N',
          'token latency',
          'budget',
          'all Ready',
          'apply',
          'p50',
          'p99',
          'conn/s',
          'token req',
          'writes sec/status/events',
          'coffre CPU',
          'apiserver CPU',
          'peak RSS',
        ],
        results.burst.map((b) => [
          String(b.n),
          `${b.latencyMs} ms`,
          b.budget,
          seconds(b.totalMs),
          seconds(b.applyMs),
          seconds(b.p50Ms),
          seconds(b.p99Ms),
          String(b.perSecond),
          String(b.cost.tokenRequests),
          writes(b.cost.apiServerWrites),
          `${b.cost.operatorCpuSeconds.toFixed(1)} s`,
          `${b.cost.apiServerCpuSeconds.toFixed(1)} s`,
          mb(b.peakRssBytes),
        ]),
      ),
      '',
    );
  }
  if (results.floor.length > 0) {
    out.push(
      '2. Floor: the same apply answered by a minimal client-node program (Secret + status per connection)',
    );
    out.push(
      table(
        [
          'N',
          'client',
          'all Ready',
          'apply',
          'p50',
          'p99',
          'conn/s',
          'writes sec/status',
          'apiserver CPU',
          'coffre / floor',
        ],
        results.floor.map((f) => {
          const ratio = f.pinAgent ? floorRatio(results, f.n) : undefined;
          return [
            String(f.n),
            f.pinAgent ? 'one shared agent' : 'agent per request',
            seconds(f.totalMs),
            seconds(f.applyMs),
            seconds(f.p50Ms),
            seconds(f.p99Ms),
            String(f.perSecond),
            writes(f.cost.apiServerWrites).split('/').slice(0, 2).join('/'),
            `${f.cost.apiServerCpuSeconds.toFixed(1)} s`,
            ratio === undefined ? '' : `${ratio}x`,
          ];
        }),
      ),
      '',
    );
  }
  const { steady, sharing, memory, restart } = results;
  if (steady !== undefined) {
    out.push(
      `3. Steady state: ${steady.n} connections, ${steady.ttlSeconds} s tokens, ${seconds(steady.windowMs)} measured`,
      table(
        [
          'refreshes',
          'writes/refresh',
          'by resource',
          'token req/refresh',
          'min lead',
          'expired moments',
          'coffre CPU',
          'RSS',
        ],
        [
          [
            String(steady.refreshes),
            String(steady.writesPerRefresh),
            Object.entries(steady.writesPerRefreshByResource)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
            String(steady.tokenRequestsPerRefresh),
            millis(steady.minLeadMs),
            `${steady.expiredMoments} (${millis(steady.expiredMs)})`,
            `${steady.cost.operatorCpuSeconds.toFixed(1)} s`,
            mb(steady.rssBytes),
          ],
        ],
      ),
      '',
    );
  }
  if (sharing !== undefined) {
    out.push(
      `4. Sharing: ${sharing.n} connections on one OAuthClient and audience, ${sharing.ttlSeconds} s tokens, ${seconds(sharing.windowMs)} measured`,
      table(
        ['first tokens', 'renewals', 'token req/renewal', 'token req/TTL', 'expired moments'],
        [
          [
            `${sharing.initialTokenRequests} request(s)`,
            String(sharing.renewals),
            String(sharing.tokenRequestsPerRenewal),
            String(sharing.tokenRequestsPerLifetime),
            String(sharing.expiredMoments),
          ],
        ],
      ),
      '',
    );
  }
  if (memory !== undefined) {
    const row = (label: string, s: MemoryResult['empty']) => [
      label,
      mb(s.rssBytes),
      mb(s.heapUsedBytes),
      mb(s.heapTotalBytes),
      mb(s.externalBytes),
    ];
    out.push(
      `5. Memory: ${memory.connections} apiKey connections (own credentials Secret each), then ${memory.unrelatedSecrets} unrelated Secrets, then ${memory.impostorSecrets} impostor Secrets`,
      table(
        ['operator', 'RSS', 'heap used', 'heap total', 'external'],
        [
          row('empty cluster', memory.empty),
          row(
            `after creating ${memory.connections} (peak RSS ${mb(memory.afterSetupPeakRssBytes)})`,
            memory.afterSetup,
          ),
          row(`restarted with ${memory.connections}`, memory.restarted),
          row(`... + ${memory.unrelatedSecrets} unrelated Secrets`, memory.restartedWithUnrelated),
          row(
            `... + ${memory.impostorSecrets} impostors of ${mb(memory.impostorBytes)}`,
            memory.restartedWithImpostors,
          ),
        ],
      ),
      `setup (create and make Ready ${memory.connections}): ${seconds(memory.setupMs)}`,
      '',
    );
  }
  if (restart !== undefined) {
    const s = restart.startup;
    out.push(
      `6. Restart with ${restart.connections} Ready connections (ms after spawn)`,
      table(
        [
          'process up',
          'caches synced',
          'controllers started',
          'first reconcile',
          'all reconciled',
          'token req',
          'writes',
        ],
        [
          [
            millis(s.processStartedMs),
            millis(s.cachesSyncedMs),
            millis(s.controllersStartedMs),
            millis(s.firstReconcileMs),
            millis(s.allReconciledMs),
            String(restart.cost.tokenRequests),
            Object.entries(restart.cost.apiServerWrites)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || '0',
          ],
        ],
      ),
      '',
    );
  }
  out.push(
    'Targets',
    table(
      ['', 'target', 'measured', 'met'],
      results.targets.map((t) => [
        t.name,
        t.target,
        t.value,
        t.met === undefined ? '-' : t.met ? 'yes' : 'NO',
      ]),
    ),
  );
  return out.join('\n');
}
