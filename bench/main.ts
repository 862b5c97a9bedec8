// npm run bench: coffre against a real kube-apiserver (one fresh control plane per scenario) and a real
// OAuth server, next to a floor that only makes the writes the work needs. Prints a table, writes the
// results as JSON and a chart as SVG. It measures and compares; it asserts nothing about timings.
//
//   npm run bench                       the default run (fits in 15 minutes on 2 cores)
//   npm run bench -- --full             the sizes of issue 10 (bursts of 5,000 with and without latency)
//   npm run bench -- --scenarios=burst,floor --sizes=100 --out=bench/results/try.local
//   npm run bench -- --help
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type Panel, type Series } from './chart.ts';
import { liftedBudgetFlags, type BenchContext } from './context.ts';
import { formatReport, judge, type BenchResults, type Machine } from './results.ts';
import {
  runBurst,
  runFloor,
  type BurstResult,
  type FloorResult,
  type FloorTemplate,
  type RestartResult,
} from './scenarios/burst.ts';
import { runMemory } from './scenarios/memory.ts';
import { runSharing, runSteady } from './scenarios/tokens.ts';

const SCENARIOS = ['burst', 'floor', 'steady', 'sharing', 'memory', 'restart'] as const;
type Scenario = (typeof SCENARIOS)[number];

const options = {
  scenarios: { type: 'string', default: SCENARIOS.join(',') },
  sizes: { type: 'string', default: '100,1000,2000' },
  'latency-ms': { type: 'string', default: '100' },
  'latency-sizes': { type: 'string', default: '100,1000' },
  'default-budget-size': { type: 'string', default: '1000' },
  'floor-per-request-size': { type: 'string', default: '1000' },
  workers: { type: 'string', default: '8' },
  'apply-concurrency': { type: 'string', default: '16' },
  steady: { type: 'string', default: '200' },
  'steady-ttl': { type: 'string', default: '6' },
  'steady-lifetimes': { type: 'string', default: '8' },
  sharing: { type: 'string', default: '200' },
  'sharing-ttl': { type: 'string', default: '9' },
  'sharing-lifetimes': { type: 'string', default: '4' },
  memory: { type: 'string', default: '1000,10000' },
  unrelated: { type: 'string', default: '20000' },
  impostors: { type: 'string', default: '600' },
  'impostor-bytes': { type: 'string', default: '1048576' },
  restart: { type: 'string', default: '1000' },
  full: { type: 'boolean', default: false },
  'cpu-prof': { type: 'boolean', default: false },
  'heap-snapshots': { type: 'boolean', default: false },
  repeat: { type: 'string', default: '1' },
  main: { type: 'string', default: '' },
  'operator-flags': { type: 'string', default: '' },
  'node-flags': { type: 'string', default: '' },
  out: { type: 'string', default: 'bench/results/latest' },
  help: { type: 'boolean', default: false },
} as const;

const HELP = `npm run bench -- [flags]

  --scenarios=LIST            ${SCENARIOS.join(',')} (default: all)
  --sizes=LIST                burst sizes, without token latency (default 100,1000,2000)
  --latency-ms=MS             token endpoint latency of the second burst series (default 100)
  --latency-sizes=LIST        burst sizes run again with that latency (default 100,1000)
  --default-budget-size=N     one burst with the operator's default per-host token budget; 0: none (default 1000)
  --floor-per-request-size=N  floor also with client-node's agent per request at this size; 0: none (default 1000)
  --workers=N                 the operator's --workers and the floor's (default 8)
  --apply-concurrency=N       creates the bench sends at once (default 16)
  --steady=N --steady-ttl=S --steady-lifetimes=K      (default 200, 6 s, 8)
  --sharing=N --sharing-ttl=S --sharing-lifetimes=K   (default 200, 9 s, 4)
  --memory=LIST --unrelated=M  connections, added up to each size with a restart after each, then
                              unrelated Secrets (default 1000,10000 and 20000)
  --impostors=K --impostor-bytes=B  then a tenant's Secrets labelled as coffre's (default 600 of 1 MiB)
  --restart=N                 Ready connections at the restart (default 1000)
  --full                      issue 10's sizes: bursts of 100, 1000 and 5000, each also with latency
  --repeat=K                  run each burst and floor without latency K times; ratios of the medians (default 1)
  --cpu-prof                  write V8 CPU profiles of the operator into the work directory
  --heap-snapshots            heap snapshot of the restarted operator at each memory size, by constructor
  --operator-flags="F1 F2"    more flags for every operator process, e.g. --log-level=debug
  --node-flags="F1 F2"        flags for node in every operator process, e.g. --max-old-space-size=128
  --main=PATH                 the operator's entry point (default src/main.ts); the image's is compiled:
                              npx tsc -p tsconfig.build.json, then --main=dist/main.js
  --out=PATH                  results as PATH.json and PATH.svg (default bench/results/latest);
                              names with .local. are ignored by git (scratch)`;

const { values } = parseArgs({ options, allowPositionals: false });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(Number);
const int = (text: string) => Number.parseInt(text, 10);

const scenarios = new Set(values.scenarios.split(',').map((s) => s.trim()) as Scenario[]);
for (const scenario of scenarios) {
  if (!SCENARIOS.includes(scenario))
    throw new Error(`unknown scenario ${scenario} (${SCENARIOS.join(', ')})`);
}
const sizes = values.full ? [100, 1000, 5000] : list(values.sizes);
const latencySizes = values.full ? [100, 1000, 5000] : list(values['latency-sizes']);
const latencyMs = int(values['latency-ms']);
const workers = int(values.workers);
const defaultBudgetSize = int(values['default-budget-size']);
const floorPerRequestSize = int(values['floor-per-request-size']);
const restartSize = int(values.restart);

const startedAt = new Date();
const dir = await mkdtemp(join(tmpdir(), 'coffre-bench-'));
const context: BenchContext = {
  workers,
  budgetFlags: liftedBudgetFlags(workers),
  extraFlags: values['operator-flags'].split(' ').filter((flag) => flag !== ''),
  nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
  applyConcurrency: int(values['apply-concurrency']),
  dir,
  cpuProfile: values['cpu-prof'],
  heapSnapshots: values['heap-snapshots'],
  repeat: Math.max(1, int(values.repeat)),
  ...(values.main === '' ? {} : { main: resolve(values.main) }),
  log: (line) => {
    const elapsed = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4);
    console.log(`[${elapsed} s] ${line}`);
  },
};
context.log(`work directory (operator logs, profiles): ${dir}`);

const burst: BurstResult[] = [];
const floor: FloorResult[] = [];
let restart: RestartResult | undefined;
const templates = new Map<number, FloorTemplate>();

if (scenarios.has('burst') || scenarios.has('floor') || scenarios.has('restart')) {
  const burstSizes = scenarios.has('burst') || scenarios.has('floor') ? sizes : [];
  const runSizes = [...new Set([...burstSizes, ...(scenarios.has('restart') ? [restartSize] : [])])];
  for (const n of runSizes.sort((a, b) => a - b)) {
    const repetitions = burstSizes.includes(n) ? (context.repeat ?? 1) : 1;
    for (let repetition = 1; repetition <= repetitions; repetition++) {
      const withRestart = scenarios.has('restart') && n === restartSize && repetition === 1;
      const outcome = await runBurst(context, { n, latencyMs: 0, budget: 'lifted', restart: withRestart });
      if (burstSizes.includes(n)) burst.push({ ...outcome.result, repetition });
      templates.set(n, outcome.template);
      if (outcome.restart !== undefined) restart = outcome.restart;
      if (scenarios.has('floor') && burstSizes.includes(n)) {
        const pinned = await runFloor(context, { n, pinAgent: true, template: outcome.template });
        floor.push({ ...pinned, repetition });
        if (n === floorPerRequestSize && repetition === 1) {
          floor.push(await runFloor(context, { n, pinAgent: false, template: outcome.template }));
        }
      }
    }
  }
  if (scenarios.has('burst')) {
    for (const n of latencySizes) {
      burst.push((await runBurst(context, { n, latencyMs, budget: 'lifted' })).result);
    }
    if (defaultBudgetSize > 0) {
      burst.push((await runBurst(context, { n: defaultBudgetSize, latencyMs: 0, budget: 'default' })).result);
    }
  }
}

const steady = scenarios.has('steady')
  ? await runSteady(context, {
      n: int(values.steady),
      ttlSeconds: int(values['steady-ttl']),
      lifetimes: int(values['steady-lifetimes']),
    })
  : undefined;
const sharing = scenarios.has('sharing')
  ? await runSharing(context, {
      n: int(values.sharing),
      ttlSeconds: int(values['sharing-ttl']),
      lifetimes: int(values['sharing-lifetimes']),
    })
  : undefined;
const memory = scenarios.has('memory')
  ? await runMemory(context, {
      connections: list(values.memory),
      unrelatedSecrets: int(values.unrelated),
      impostorSecrets: int(values.impostors),
      impostorBytes: int(values['impostor-bytes']),
    })
  : undefined;

async function machine(): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    cpu: model.trim(),
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    kubernetes: context.kubernetes ?? 'not started',
    os: `Linux ${release()}`,
  };
}

const args = process.argv.slice(2);
const partial: Omit<BenchResults, 'targets'> = {
  startedAt: startedAt.toISOString(),
  command: `npm run bench${args.length === 0 ? '' : ` -- ${args.join(' ')}`}`,
  durationMs: Date.now() - startedAt.getTime(),
  machine: await machine(),
  settings: {
    scenarios: [...scenarios],
    sizes,
    latencyMs,
    latencySizes,
    defaultBudgetSize,
    workers,
    repeat: context.repeat,
    main: context.main ?? 'src/main.ts',
    heapSnapshots: context.heapSnapshots,
    applyConcurrency: context.applyConcurrency,
    operatorBudgetFlags: context.budgetFlags,
    operatorExtraFlags: context.extraFlags,
    operatorNodeFlags: context.nodeFlags,
    // Inherited by the operator processes; the chart sets it (memory.mallocArenaMax).
    mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
  },
  burst,
  floor,
  ...(steady === undefined ? {} : { steady }),
  ...(sharing === undefined ? {} : { sharing }),
  ...(memory === undefined ? {} : { memory }),
  ...(restart === undefined ? {} : { restart }),
};
const results: BenchResults = { ...partial, targets: judge(partial) };

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const panels: Panel[] = [...new Set(burst.map((b) => b.n))].map((n) => {
  const series: Series[] = [];
  for (const b of burst.filter((r) => r.n === n)) {
    series.push({
      label: `coffre, ${b.latencyMs} ms token latency${b.budget === 'default' ? ', default budget' : ''}`,
      color: COLORS[series.length % COLORS.length] ?? '#000',
      points: b.curve,
    });
  }
  for (const f of floor.filter((r) => r.n === n)) {
    series.push({
      label: `floor${f.pinAgent ? '' : ', agent per request'}`,
      color: f.pinAgent ? '#555' : '#aaa',
      dashed: true,
      points: f.curve,
    });
  }
  return {
    title: `${n} connections applied at once`,
    xLabel: 'seconds since the first create',
    yLabel: 'connections Ready',
    series,
  };
});
const svg = renderChart(
  'coffre bench: connections Ready over time',
  `${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, Kubernetes ${results.machine.kubernetes}; ${startedAt.toISOString()}`,
  panels,
);

await mkdir(dirname(values.out), { recursive: true });
await writeFile(`${values.out}.json`, `${JSON.stringify(results, null, 2)}\n`);
// A chart only when there is something to draw (the burst and floor scenarios).
if (panels.length > 0) await writeFile(`${values.out}.svg`, svg);
console.log('');
console.log(formatReport(results));
console.log('');
console.log(
  `results: ${values.out}.json${panels.length > 0 ? `, chart: ${values.out}.svg` : ''}, logs: ${dir}`,
);
