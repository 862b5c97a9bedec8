// npm run chaos: coffre under faults, on the real control plane (a fresh one per scenario) with the real
// OAuth server, both in their own processes, and the operator as a child process through src/main.ts
// (bench/'s helpers). Every count comes from the servers: the API server's objects, the OAuth server's
// log of token requests and the OAuth errors it answered. It prints a table of faults × outcomes,
// writes JSON and a chart (connections Ready over time, faults marked) to bench/results/, and exits 1
// only when a guarantee broke — never on a timing, which is reported and judged, not asserted.
//
//   npm run chaos                         the default run (about 13 minutes on 2 cores)
//   npm run chaos -- --seed=1234          replay a run's choices (every run prints its seed)
//   npm run chaos -- --scenarios=kill --kill-n=100 --kills=3 --out=bench/results/chaos-try.local
//   npm run chaos -- --help
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type Panel } from '../bench/chart.ts';
import { liftedBudgetFlags, type BenchContext } from '../bench/context.ts';
import type { ScenarioOutcome } from './outcome.ts';
import { createRandom } from './random.ts';
import { formatChaosReport } from './report.ts';
import { runApiServer } from './scenarios/apiserver.ts';
import { runFailover } from './scenarios/failover.ts';
import { runKill } from './scenarios/kill.ts';
import { runOAuthFaults } from './scenarios/oauth-faults.ts';
import { runPressure } from './scenarios/pressure.ts';

const SCENARIOS = ['kill', 'failover', 'apiserver', 'oauth', 'pressure'] as const;
type Scenario = (typeof SCENARIOS)[number];

const options = {
  scenarios: { type: 'string', default: SCENARIOS.join(',') },
  seed: { type: 'string', default: '' },
  workers: { type: 'string', default: '8' },
  'apply-concurrency': { type: 'string', default: '16' },
  'kill-n': { type: 'string', default: '1000' },
  kills: { type: 'string', default: '20' },
  'failover-n': { type: 'string', default: '60' },
  failovers: { type: 'string', default: '10' },
  'apiserver-n': { type: 'string', default: '500' },
  'oauth-n': { type: 'string', default: '30' },
  'oauth-ttl': { type: 'string', default: '6' },
  'pressure-n': { type: 'string', default: '5000' },
  'operator-flags': { type: 'string', default: '' },
  out: { type: 'string', default: 'bench/results/chaos' },
  help: { type: 'boolean', default: false },
} as const;

const HELP = `npm run chaos -- [flags]

  --scenarios=LIST      ${SCENARIOS.join(',')} (default: all)
  --seed=N              replay a run's choices (default: a new seed, printed)
  --kill-n=N --kills=K  kill -9 K times during a burst of N connections (default 1000, 20)
  --failover-n=N --failovers=K   2 replicas, the leader killed K times mid-renewal (default 60, 10)
  --apiserver-n=N       connections during the kube-apiserver restart and etcd compaction (default 500)
  --oauth-n=N --oauth-ttl=S      connections (and their token lifetime) under OAuth faults (default 30, 6 s)
  --pressure-n=N        static connections (and N/100 token ones) under a capped heap (default 5000)
  --workers=N           the operator's --workers (default 8)
  --operator-flags="F"  more flags for every operator process
  --out=PATH            PATH.json and PATH.svg (default bench/results/chaos); .local. names are not committed`;

const { values } = parseArgs({ options, allowPositionals: false });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const int = (text: string) => Number.parseInt(text, 10);
const scenarios = values.scenarios.split(',').map((s) => s.trim()) as Scenario[];
for (const scenario of scenarios) {
  if (!SCENARIOS.includes(scenario))
    throw new Error(`unknown scenario ${scenario} (${SCENARIOS.join(', ')})`);
}
const seed = values.seed === '' ? Math.floor(Math.random() * 2 ** 31) : int(values.seed);
const startedAt = new Date();
const dir = await mkdtemp(join(tmpdir(), 'coffre-chaos-'));
const workers = int(values.workers);
const context: BenchContext = {
  workers,
  budgetFlags: liftedBudgetFlags(workers),
  extraFlags: values['operator-flags'].split(' ').filter((flag) => flag !== ''),
  nodeFlags: [],
  applyConcurrency: int(values['apply-concurrency']),
  dir,
  cpuProfile: false,
  log: (line) => {
    const elapsed = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4);
    console.log(`[${elapsed} s] ${line}`);
  },
};
const args = process.argv.slice(2);
const command = `npm run chaos -- ${[...args.filter((a) => !a.startsWith('--seed=')), `--seed=${seed}`].join(' ')}`;
context.log(`seed ${seed} (replay: ${command})`);
context.log(`work directory (operator logs): ${dir}`);

// One generator per scenario, forked from the run's seed in a fixed order: running one scenario alone
// with the same seed makes the same choices as in the full run.
const root = createRandom(seed);
const seeds = Object.fromEntries(SCENARIOS.map((s) => [s, root.fork()])) as Record<Scenario, number>;
const outcomes: ScenarioOutcome[] = [];
for (const scenario of scenarios) {
  const random = createRandom(seeds[scenario]);
  try {
    switch (scenario) {
      case 'kill':
        outcomes.push(
          await runKill(context, random, {
            n: int(values['kill-n']),
            kills: int(values.kills),
            gapMs: [300, 2500],
          }),
        );
        break;
      case 'failover':
        outcomes.push(
          await runFailover(context, random, {
            n: int(values['failover-n']),
            failovers: int(values.failovers),
          }),
        );
        break;
      case 'apiserver':
        outcomes.push(await runApiServer(context, random, { n: int(values['apiserver-n']) }));
        break;
      case 'oauth':
        outcomes.push(
          ...(await runOAuthFaults(context, random, {
            n: int(values['oauth-n']),
            ttlSeconds: int(values['oauth-ttl']),
          })),
        );
        break;
      case 'pressure':
        outcomes.push(await runPressure(context, random, { n: int(values['pressure-n']) }));
        break;
    }
  } catch (error) {
    // A scenario that could not run is a failed guarantee, with what went wrong.
    context.log(
      `  ${scenario} failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    outcomes.push({
      scenario,
      fault: scenario,
      seed: random.seed,
      durationMs: 0,
      figures: {},
      checks: [
        {
          name: 'the scenario ran to its end',
          expected: 'yes',
          measured: String(error).slice(0, 200),
          met: false,
          kind: 'guarantee',
        },
      ],
      curve: [],
      marks: [],
      logs: [],
    });
  }
}

const results = {
  startedAt: startedAt.toISOString(),
  command,
  seed,
  durationMs: Date.now() - startedAt.getTime(),
  machine: {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    kubernetes: context.kubernetes ?? 'not started',
    os: `Linux ${release()}`,
  },
  outcomes,
  brokenGuarantees: outcomes.flatMap((o) =>
    o.checks.filter((c) => c.kind === 'guarantee' && !c.met).map((c) => `${o.scenario}: ${c.name}`),
  ),
};

const panels: Panel[] = outcomes
  .filter((o) => o.curve.length > 0)
  .map((o) => ({
    title: o.fault,
    xLabel: `seconds (faults at ${o.marks
      .slice(0, 6)
      .map((m) => m.at.toFixed(0))
      .join(', ')}${o.marks.length > 6 ? ', ...' : ''})`,
    yLabel: 'connections Ready',
    series: [
      { label: 'Ready', color: '#1f77b4', points: o.curve },
      ...(o.marks.length === 0
        ? []
        : [
            {
              label: 'fault',
              color: '#d62728',
              dashed: true,
              points: o.marks.flatMap(
                (m) =>
                  [
                    [m.at, 0],
                    [m.at, Math.max(...o.curve.map(([, y]) => y))],
                    [m.at, 0],
                  ] as [number, number][],
              ),
            },
          ]),
    ],
  }));
await mkdir(dirname(values.out), { recursive: true });
await writeFile(`${values.out}.json`, `${JSON.stringify(results, null, 2)}\n`);
if (panels.length > 0) {
  await writeFile(
    `${values.out}.svg`,
    renderChart(
      'coffre chaos: connections Ready under faults',
      `seed ${seed}; ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}; ${startedAt.toISOString()}`,
      panels,
    ),
  );
}
console.log('');
console.log(formatChaosReport(results));
console.log('');
console.log(
  `results: ${values.out}.json${panels.length > 0 ? `, chart: ${values.out}.svg` : ''}, logs: ${dir}`,
);
console.log(`seed ${seed}; replay: ${command}`);
process.exitCode = results.brokenGuarantees.length > 0 ? 1 : 0;
