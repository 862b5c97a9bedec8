// The results of one bench run (written as JSON), the targets they are judged against, and the table
// printed at the end.
import type { BurstResult, FloorResult, RestartResult } from './scenarios/burst.ts';
import type { MemoryResult } from './scenarios/memory.ts';
import type { SharingResult, SteadyResult } from './scenarios/tokens.ts';
import { median, millis, round, seconds } from './stats.ts';

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

const KB = 1e3;

/** coffre's bursts at N without token latency and with the budget lifted (one per repetition). */
function plainBursts(results: Pick<BenchResults, 'burst'>, n: number): BurstResult[] {
  return results.burst.filter((b) => b.n === n && b.latencyMs === 0 && b.budget === 'lifted');
}

/** The median of `pick` over the plain bursts at N. */
export function burstMedian(
  results: Pick<BenchResults, 'burst'>,
  n: number,
  pick: (b: BurstResult) => number,
): number | undefined {
  return median(plainBursts(results, n).map(pick));
}

/** The coffre/floor ratio at N: median burst total over median floor total (shared agent). */
export function floorRatio(results: Pick<BenchResults, 'burst' | 'floor'>, n: number): number | undefined {
  const coffre = burstMedian(results, n, (b) => b.totalMs);
  const floor = median(results.floor.filter((f) => f.n === n && f.pinAgent).map((f) => f.totalMs));
  if (coffre === undefined || floor === undefined) return undefined;
  return Math.round((coffre / floor) * 100) / 100;
}

/** API writes and reads (by the API server's count) per new connection, and CPU seconds per 1,000 Ready. */
export function perConnectionCost(b: BurstResult): { writes: number; reads: number; cpuPer1000: number } {
  const reads = Object.values(b.cost.apiServerReads).reduce((a, c) => a + c, 0);
  return {
    writes: round(b.cost.apiServerWritesTotal / b.n, 2),
    reads: round(reads / b.n, 2),
    cpuPer1000: round((b.cost.operatorCpuSeconds / b.n) * 1000, 2),
  };
}

/** Operator CPU seconds per 1,000 refreshes in the steady state. */
export function cpuPer1000Refreshes(steady: SteadyResult): number | undefined {
  return steady.refreshes === 0
    ? undefined
    : round((steady.cost.operatorCpuSeconds / steady.refreshes) * 1000, 2);
}

export function judge(results: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  for (const n of [...new Set(results.floor.filter((f) => f.pinAgent).map((f) => f.n))]) {
    const ratio = floorRatio(results, n);
    const runs = plainBursts(results, n).length;
    targets.push({
      name: `burst total / floor total at N = ${n} (median of ${runs})`,
      target: '<= 1.3x',
      value: ratio === undefined ? '-' : `${ratio}x`,
      met: ratio === undefined ? undefined : ratio <= 1.3,
    });
  }
  for (const n of [...new Set(results.burst.map((b) => b.n))]) {
    const writes = burstMedian(results, n, (b) => perConnectionCost(b).writes);
    const cpu = burstMedian(results, n, (b) => perConnectionCost(b).cpuPer1000);
    if (writes === undefined || cpu === undefined) continue;
    targets.push(
      {
        name: `burst of ${n}: API writes per new connection`,
        target: '<= 2',
        value: String(writes),
        met: writes <= 2,
      },
      {
        name: `burst of ${n}: operator CPU per 1,000 Ready`,
        target: '<= 4 s',
        value: `${cpu} s`,
        met: cpu <= 4,
      },
    );
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
    const per = memory.perConnection;
    if (per !== undefined) {
      targets.push({
        name: `memory: RSS per extra connection, restarted, ${per.from} to ${per.to}`,
        target: '<= 12 KB',
        value: `${(per.rssBytes / KB).toFixed(1)} KB (private ${(per.rssAnonBytes / KB).toFixed(1)} KB)`,
        met: per.rssBytes <= 12 * KB,
      });
    }
    targets.push(
      {
        name: 'memory: RSS idle, empty cluster',
        target: '<= 100 MB',
        value: `${mb(memory.empty.rssBytes)} (private ${mb(memory.empty.rssAnonBytes)})`,
        met: memory.empty.rssBytes <= 100 * MB,
      },
      {
        name: `memory: RSS with ${memory.connections} connections, restarted`,
        target: '<= 150 MB',
        value: `${mb(memory.restarted.rssBytes)} (private ${mb(memory.restarted.rssAnonBytes)})`,
        met: memory.restarted.rssBytes <= 150 * MB,
      },
      {
        name: `memory: peak RSS making ${memory.connections} connections Ready`,
        target: '<= 200 MB',
        value: mb(memory.afterSetupPeakRssBytes),
        met: memory.afterSetupPeakRssBytes <= 200 * MB,
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
          'run',
          'token latency',
          'budget',
          'all Ready',
          'apply',
          'p50',
          'p99',
          'conn/s',
          'token req',
          'writes sec/status/events',
          'writes/reads per conn',
          'coffre CPU',
          'CPU per 1,000',
          'apiserver CPU',
          'peak RSS',
        ],
        results.burst.map((b) => [
          String(b.n),
          String(b.repetition ?? 1),
          `${b.latencyMs} ms`,
          b.budget,
          seconds(b.totalMs),
          seconds(b.applyMs),
          seconds(b.p50Ms),
          seconds(b.p99Ms),
          String(b.perSecond),
          String(b.cost.tokenRequests),
          writes(b.cost.apiServerWrites),
          `${perConnectionCost(b).writes}/${perConnectionCost(b).reads}`,
          `${b.cost.operatorCpuSeconds.toFixed(1)} s`,
          `${perConnectionCost(b).cpuPer1000.toFixed(1)} s`,
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
          'run',
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
          const ratio = f.pinAgent && (f.repetition ?? 1) === 1 ? floorRatio(results, f.n) : undefined;
          return [
            String(f.n),
            String(f.repetition ?? 1),
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
          'CPU per 1,000 refreshes',
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
            `${cpuPer1000Refreshes(steady)?.toFixed(1) ?? '-'} s`,
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
      mb(s.rssAnonBytes),
      mb(s.heapUsedBytes),
      mb(s.heapTotalBytes),
      mb(s.externalBytes),
    ];
    const rows = [row('empty cluster', memory.empty)];
    for (const step of memory.steps) {
      rows.push(
        row(
          `after making ${step.connections} Ready (peak RSS ${mb(step.afterSetupPeakRssBytes)})`,
          step.afterSetup,
        ),
        row(`restarted with ${step.connections}`, step.restarted),
      );
    }
    rows.push(
      row(`... + ${memory.unrelatedSecrets} unrelated Secrets`, memory.restartedWithUnrelated),
      row(
        `... + ${memory.impostorSecrets} impostors of ${mb(memory.impostorBytes)}`,
        memory.restartedWithImpostors,
      ),
    );
    out.push(
      `5. Memory: ${memory.steps.map((s) => s.connections).join(', ')} apiKey connections (own credentials Secret each), then ${memory.unrelatedSecrets} unrelated Secrets, then ${memory.impostorSecrets} impostor Secrets`,
      table(['operator', 'RSS', 'private (RssAnon)', 'heap used', 'heap total', 'external'], rows),
      ...memory.steps.map(
        (s) =>
          `making ${s.connections} Ready: ${seconds(s.setupMs)}, operator CPU ${s.setupCpuSeconds.toFixed(1)} s (${s.cpuSecondsPer1000Ready.toFixed(1)} s per 1,000)`,
      ),
      '',
    );
    const per = memory.perConnection;
    if (per !== undefined) {
      out.push(
        `Per extra connection, restarted, ${per.from} to ${per.to}: RSS ${(per.rssBytes / KB).toFixed(1)} KB, private ${(per.rssAnonBytes / KB).toFixed(1)} KB, heap used ${(per.heapUsedBytes / KB).toFixed(1)} KB`,
      );
      if (per.heap !== undefined) {
        out.push(
          `Live heap per connection (heap snapshots): ${(per.heap.totalBytes / KB).toFixed(2)} KB, by constructor:`,
          table(
            ['kind', 'objects', 'bytes'],
            per.heap.groups.map((g) => [g.name, String(g.count), String(g.bytes)]),
          ),
        );
      }
      out.push('');
    }
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
