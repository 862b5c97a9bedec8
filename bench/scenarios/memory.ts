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
import { median, sleep } from '../stats.ts';
import { trackReady } from '../watch.ts';
import { NAMESPACE } from './burst.ts';

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export interface MemoryResult {
  connections: number;
  unrelatedSecrets: number;
  /** Time to create the connections and have them all Ready. */
  setupMs: number;
  /** The operator with no object at all, just started. */
  empty: MemorySample;
  /** The process that made the N connections Ready. */
  afterSetup: MemorySample;
  afterSetupPeakRssBytes: number;
  /** A fresh process on the same cluster, once it has reconciled everything. */
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
      heapUsedBytes: sum(metrics, 'coffre_nodejs_heap_size_used_bytes'),
      heapTotalBytes: sum(metrics, 'coffre_nodejs_heap_size_total_bytes'),
      externalBytes: sum(metrics, 'coffre_nodejs_external_memory_bytes'),
    });
    await sleep(1000);
  }
  const pick = (field: keyof MemorySample) => median(samples.map((s) => s[field])) ?? 0;
  return {
    rssBytes: pick('rssBytes'),
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
  connections: number;
  unrelatedSecrets: number;
  /** Impostor Secrets a tenant adds, and the data bytes of each. */
  impostorSecrets: number;
  impostorBytes: number;
}

const growth = (after: MemorySample, before: MemorySample) =>
  Math.round(((after.rssBytes - before.rssBytes) / before.rssBytes) * 1000) / 1000;

export async function runMemory(context: BenchContext, run: MemoryRun): Promise<MemoryResult> {
  const { connections, unrelatedSecrets, impostorSecrets, impostorBytes } = run;
  context.log(
    `memory: ${connections} apiKey connections, then ${unrelatedSecrets} unrelated Secrets, then ${impostorSecrets} impostor Secrets of ${impostorBytes} bytes`,
  );
  const cluster = await startCluster(context);
  const { kube } = cluster;
  try {
    await createNamespace(kube, NAMESPACE);
    await createNamespace(kube, UNRELATED_NAMESPACE);
    await createNamespace(kube, TENANT_NAMESPACE);
    const start = (name: string) =>
      startOperator({ ...operatorOptions(context, cluster.controlPlane.kubeconfigPath, ''), name });
    let operator = await start(`memory-${connections}`);
    let empty: MemorySample;
    let afterSetup: MemorySample;
    let afterSetupPeakRssBytes: number;
    let setupMs: number;
    try {
      await operator.waitReady();
      empty = await sampleMemory(operator);
      const tracker = await trackReady(kube, NAMESPACE);
      const started = Date.now();
      const names = Array.from({ length: connections }, (_, i) => connectionName(i));
      await forEachConcurrent(names, context.applyConcurrency, async (name) => {
        await kube.create(paths.secrets(NAMESPACE), apiKeySecret(`${name}-credentials`));
        await kube.create(paths.vaultConnections(NAMESPACE), apiKeyConnection(name, `${name}-credentials`));
      });
      await tracker.waitForReady(connections, 30 * 60_000);
      setupMs = Date.now() - started;
      await tracker.stop();
      context.log(`  ${connections} connections Ready in ${setupMs} ms`);
      await cluster.settle();
      afterSetup = await sampleMemory(operator);
      afterSetupPeakRssBytes = (await operator.memory()).peakRss;
    } finally {
      await operator.stop();
    }
    operator = await start(`memory-${connections}-restarted`);
    try {
      await operator.waitReady();
      await waitReconciled(operator, connections, 10 * 60_000);
      await cluster.settle();
      const restarted = await sampleMemory(operator);
      context.log(
        `  restarted: RSS ${Math.round(restarted.rssBytes / 2 ** 20)} MiB; adding unrelated Secrets`,
      );
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
      const result: MemoryResult = {
        connections,
        unrelatedSecrets,
        setupMs,
        empty,
        afterSetup,
        afterSetupPeakRssBytes,
        restarted,
        restartedWithUnrelated,
        unrelatedGrowth: growth(restartedWithUnrelated, restarted),
        impostorSecrets,
        impostorBytes,
        restartedWithImpostors,
        impostorGrowth: growth(restartedWithImpostors, restartedWithUnrelated),
      };
      context.log(
        `  RSS ${Math.round(restarted.rssBytes / 2 ** 20)} MiB -> ${Math.round(restartedWithUnrelated.rssBytes / 2 ** 20)} MiB with unrelated Secrets -> ${Math.round(restartedWithImpostors.rssBytes / 2 ** 20)} MiB with impostors`,
      );
      return result;
    } finally {
      await operator.stop();
    }
  } finally {
    await cluster.stop();
  }
}
