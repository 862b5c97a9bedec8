// Scenario 5, memory: the operator's resident memory and V8 heap with N static (apiKey) connections,
// each with its own credentials Secret; then again after adding M Secrets coffre has nothing to do
// with, and then after a tenant adds K large Secrets labelled as coffre's own (managed-by=coffre, a
// controller owner reference to a VaultConnection uid coffre does not know): none of their data may stay
// in coffre's memory. Measured twice: in the process that created the N target Secrets (it carries whatever the
// burst of writes left behind), and in a fresh process started on the same cluster (a restart).
import { startCluster } from '../cluster.ts';
import type { BenchContext } from '../context.ts';
import {
  apiKeyConnection,
  apiKeySecret,
  connectionName,
  impostorSecret,
  unrelatedSecret,
} from '../fixtures.ts';
import { createNamespace, forEachConcurrent, paths } from '../kube.ts';
import { operatorOptions, startOperator, type OperatorProcess } from '../operator-process.ts';
import { sum } from '../prom.ts';
import { median, round, sleep } from '../stats.ts';
import { perConnection, summariseFile, type HeapSummary } from '../heap-snapshot.ts';
import { trackReady } from '../watch.ts';
import { NAMESPACE } from './burst.ts';

export interface MemorySample {
  rssBytes: number;
  /** Private (anonymous) resident memory, RssAnon in /proc: what the process itself allocated. */
  rssAnonBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

/** One size of the memory scenario: connections added up to `connections`, then a restart. */
export interface MemoryStep {
  connections: number;
  /** Time to create this step's connections and have them all Ready. */
  setupMs: number;
  /** CPU seconds the operator spent on them (from /proc), and per 1,000 of them. */
  setupCpuSeconds: number;
  cpuSecondsPer1000Ready: number;
  /** The process that made them Ready (it carries whatever the burst of writes left behind). */
  afterSetup: MemorySample;
  afterSetupPeakRssBytes: number;
  /** A fresh process on the same cluster, once it has reconciled everything. */
  restarted: MemorySample;
  /** The restarted process's heap by constructor (with --heap-snapshots). */
  heap?: HeapSummary;
}

export interface MemoryResult {
  /** The largest size (the last step). */
  connections: number;
  unrelatedSecrets: number;
  /** The operator with no object at all, just started. */
  empty: MemorySample;
  steps: MemoryStep[];
  /** Restarted RSS and private memory per extra connection between the first and the last step. */
  perConnection?: {
    from: number;
    to: number;
    rssBytes: number;
    rssAnonBytes: number;
    heapUsedBytes: number;
    /** From the heap snapshots: live bytes per connection, and the kinds that grew most. */
    heap?: ReturnType<typeof perConnection>;
  };
  /** Compatibility with one-size runs: the last step's figures. */
  setupMs: number;
  afterSetup: MemorySample;
  afterSetupPeakRssBytes: number;
  restarted: MemorySample;
  /** The fresh process after the unrelated Secrets were added. */
  restartedWithUnrelated: MemorySample;
  /** (restartedWithUnrelated − restarted) / restarted, RSS. */
  unrelatedGrowth: number;
  impostorSecrets: number;
  impostorBytes: number;
  /** The fresh process after the tenant's impostor Secrets were added too. */
  restartedWithImpostors: MemorySample;
  /** (restartedWithImpostors − restartedWithUnrelated) / restartedWithUnrelated, RSS. */
  impostorGrowth: number;
}

const UNRELATED_NAMESPACE = 'unrelated';
const TENANT_NAMESPACE = 'tenant';

/** Median of five samples a second apart (RSS from /proc, heap from the operator's metrics). */
async function sampleMemory(operator: OperatorProcess): Promise<MemorySample> {
  const samples: MemorySample[] = [];
  for (let i = 0; i < 5; i++) {
    const [metrics, memory] = await Promise.all([operator.metrics(), operator.memory()]);
    samples.push({
      rssBytes: memory.rss,
      rssAnonBytes: memory.rssAnon,
      heapUsedBytes: sum(metrics, 'coffre_nodejs_heap_size_used_bytes'),
      heapTotalBytes: sum(metrics, 'coffre_nodejs_heap_size_total_bytes'),
      externalBytes: sum(metrics, 'coffre_nodejs_external_memory_bytes'),
    });
    await sleep(1000);
  }
  const pick = (field: keyof MemorySample) => median(samples.map((s) => s[field])) ?? 0;
  return {
    rssBytes: pick('rssBytes'),
    rssAnonBytes: pick('rssAnonBytes'),
    heapUsedBytes: pick('heapUsedBytes'),
    heapTotalBytes: pick('heapTotalBytes'),
    externalBytes: pick('externalBytes'),
  };
}

/** Waits until the operator has reconciled at least `count` connections since it started. */
async function waitReconciled(operator: OperatorProcess, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reconciled = sum(await operator.metrics(), 'coffre_reconcile_total', {
      controller: 'vaultconnection',
    });
    if (reconciled >= count) return;
    if (Date.now() > deadline) throw new Error(`${reconciled} of ${count} reconciled after ${timeoutMs} ms`);
    await sleep(500);
  }
}

export interface MemoryRun {
  /** Sizes, ascending: connections are added up to each, then the operator is restarted. */
  connections: readonly number[];
  unrelatedSecrets: number;
  /** Impostor Secrets a tenant adds, and the data bytes of each. */
  impostorSecrets: number;
  impostorBytes: number;
}

const growth = (after: MemorySample, before: MemorySample) =>
  Math.round(((after.rssBytes - before.rssBytes) / before.rssBytes) * 1000) / 1000;

export async function runMemory(context: BenchContext, run: MemoryRun): Promise<MemoryResult> {
  const { unrelatedSecrets, impostorSecrets, impostorBytes } = run;
  const sizes = [...new Set(run.connections)].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1] ?? 0;
  context.log(
    `memory: ${sizes.join(', ')} apiKey connections, then ${unrelatedSecrets} unrelated Secrets, then ${impostorSecrets} impostor Secrets of ${impostorBytes} bytes`,
  );
  const cluster = await startCluster(context);
  const { kube } = cluster;
  try {
    await createNamespace(kube, NAMESPACE);
    await createNamespace(kube, UNRELATED_NAMESPACE);
    await createNamespace(kube, TENANT_NAMESPACE);
    const start = (name: string) =>
      startOperator({ ...operatorOptions(context, cluster.controlPlane.kubeconfigPath, ''), name });
    let operator = await start('memory-empty');
    const steps: MemoryStep[] = [];
    let empty: MemorySample;
    try {
      await operator.waitReady();
      empty = await sampleMemory(operator);
      let created = 0;
      for (const size of sizes) {
        const tracker = await trackReady(kube, NAMESPACE);
        const cpuBefore = await operator.cpuSeconds();
        const started = Date.now();
        const names = Array.from({ length: size - created }, (_, i) => connectionName(created + i));
        await forEachConcurrent(names, context.applyConcurrency, async (name) => {
          await kube.create(paths.secrets(NAMESPACE), apiKeySecret(`${name}-credentials`));
          await kube.create(paths.vaultConnections(NAMESPACE), apiKeyConnection(name, `${name}-credentials`));
        });
        await tracker.waitForReady(size, 30 * 60_000);
        const setupMs = Date.now() - started;
        const setupCpuSeconds = round((await operator.cpuSeconds()) - cpuBefore, 2);
        await tracker.stop();
        context.log(`  ${size - created} more connections Ready in ${setupMs} ms (${size} in all)`);
        await cluster.settle();
        const afterSetup = await sampleMemory(operator);
        const afterSetupPeakRssBytes = (await operator.memory()).peakRss;
        await operator.stop();
        operator = await start(`memory-${size}-restarted`);
        await operator.waitReady();
        await waitReconciled(operator, size, 10 * 60_000);
        await cluster.settle();
        const restarted = await sampleMemory(operator);
        const heap =
          context.heapSnapshots === true ? await summariseFile(await operator.heapSnapshot()) : undefined;
        context.log(
          `  restarted with ${size}: RSS ${Math.round(restarted.rssBytes / 2 ** 20)} MiB, private ${Math.round(restarted.rssAnonBytes / 2 ** 20)} MiB${heap === undefined ? '' : `, live heap ${Math.round(heap.totalBytes / 2 ** 20)} MiB`}`,
        );
        steps.push({
          connections: size,
          setupMs,
          setupCpuSeconds,
          cpuSecondsPer1000Ready: round((setupCpuSeconds / (size - created)) * 1000, 2),
          afterSetup,
          afterSetupPeakRssBytes,
          restarted,
          ...(heap === undefined ? {} : { heap }),
        });
        created = size;
      }
      const last = steps[steps.length - 1];
      if (last === undefined) throw new Error('memory: no size given');
      // Writing a snapshot grows the process (it is serialised in memory): measure growth from after it.
      const base = last.heap === undefined ? last.restarted : await sampleMemory(operator);
      const unrelated = Array.from({ length: unrelatedSecrets }, (_, i) => `unrelated-${i}`);
      await forEachConcurrent(unrelated, context.applyConcurrency, async (name) => {
        await kube.create(paths.secrets(UNRELATED_NAMESPACE), unrelatedSecret(name));
      });
      await cluster.settle();
      const restartedWithUnrelated = await sampleMemory(operator);
      const impostors = Array.from({ length: impostorSecrets }, (_, i) => `impostor-${i}-token`);
      // Large bodies: fewer at once, so the API server is not the thing measured.
      await forEachConcurrent(impostors, 4, async (name) => {
        await kube.create(paths.secrets(TENANT_NAMESPACE), impostorSecret(name, impostorBytes));
      });
      await cluster.settle();
      const restartedWithImpostors = await sampleMemory(operator);
      const first = steps[0];
      const result: MemoryResult = {
        connections: largest,
        unrelatedSecrets,
        empty,
        steps,
        ...(first === undefined || first === last ? {} : { perConnection: perExtra(first, last) }),
        setupMs: last.setupMs,
        afterSetup: last.afterSetup,
        afterSetupPeakRssBytes: last.afterSetupPeakRssBytes,
        restarted: last.restarted,
        restartedWithUnrelated,
        unrelatedGrowth: growth(restartedWithUnrelated, base),
        impostorSecrets,
        impostorBytes,
        restartedWithImpostors,
        impostorGrowth: growth(restartedWithImpostors, restartedWithUnrelated),
      };
      context.log(
        `  RSS ${Math.round(last.restarted.rssBytes / 2 ** 20)} MiB -> ${Math.round(restartedWithUnrelated.rssBytes / 2 ** 20)} MiB with unrelated Secrets -> ${Math.round(restartedWithImpostors.rssBytes / 2 ** 20)} MiB with impostors`,
      );
      return result;
    } finally {
      await operator.stop();
    }
  } finally {
    await cluster.stop();
  }
}

function perExtra(first: MemoryStep, last: MemoryStep): NonNullable<MemoryResult['perConnection']> {
  const extra = last.connections - first.connections;
  const per = (field: 'rssBytes' | 'rssAnonBytes' | 'heapUsedBytes') =>
    Math.round((last.restarted[field] - first.restarted[field]) / extra);
  return {
    from: first.connections,
    to: last.connections,
    rssBytes: per('rssBytes'),
    rssAnonBytes: per('rssAnonBytes'),
    heapUsedBytes: per('heapUsedBytes'),
    ...(first.heap === undefined || last.heap === undefined
      ? {}
      : {
          heap: perConnection(
            { connections: first.connections, heap: first.heap },
            { connections: last.connections, heap: last.heap },
          ),
        }),
  };
}
