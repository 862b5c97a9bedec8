// Two managers in two child processes compete for one Lease on a real API server: exactly one acts;
// SIGKILL of the leader hands over within the lease duration; SIGTERM releases the Lease so the standby
// takes over within two seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeHttp } from '../../../src/controller/kube-http.ts';
import { clusterKubeConfig, clusterKubeconfigPath, useTestNamespace } from '../../support/cluster.ts';
import type { FixtureConfig } from './fixtures/manager-process.ts';
import { eventually } from './support.ts';

const repositoryRoot = join(import.meta.dirname, '../../..');
const node = join(repositoryRoot, 'node_modules/.bin/node');
const fixture = join(import.meta.dirname, 'fixtures/manager-process.ts');

interface Line {
  event: string;
  identity: string;
  at: number;
  key?: string;
  code?: number;
}

interface Managed {
  identity: string;
  child: ChildProcess;
  lines: Line[];
  exited: Promise<number | null>;
  has(event: string): boolean;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startManager(config: Omit<FixtureConfig, 'kubeconfig'>): Managed {
  const child = spawn(node, [fixture], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      COFFRE_FIXTURE: JSON.stringify({ ...config, kubeconfig: clusterKubeconfigPath() }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Line[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Line);
    } catch {
      // not ours
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(`[${config.identity}] ${chunk.toString()}`);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  return {
    identity: config.identity,
    child,
    lines,
    exited,
    has: (event) => lines.some((l) => l.event === event),
  };
}

async function createConfigMaps(namespace: string, names: string[]): Promise<void> {
  const http = createKubeHttp(clusterKubeConfig());
  for (const name of names) {
    await http.json(`/api/v1/namespaces/${namespace}/configmaps`, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ metadata: { name, labels: { 'coffre.dev/fixture': 'true' } } }),
    });
  }
  await http.close();
}

/** Starts two managers and waits until one of them leads; returns [leader, standby]. */
async function startPair(
  namespace: string,
  timing: Partial<FixtureConfig> = {},
): Promise<[Managed, Managed]> {
  const a = startManager({ namespace, leaseName: 'coffre-test', identity: 'a', ...timing });
  const b = startManager({ namespace, leaseName: 'coffre-test', identity: 'b', ...timing });
  await eventually(
    'both caches synced and a leader',
    () => a.has('synced') && b.has('synced') && (a.has('leading') || b.has('leading')),
    20_000,
  );
  return a.has('leading') ? [a, b] : [b, a];
}

function firstAt(managed: Managed, event: string): number | undefined {
  return managed.lines.find((l) => l.event === event)?.at;
}

describe('Leader election between two manager processes', () => {
  it('should let exactly one of two managers reconcile', async () => {
    const namespace = await useTestNamespace('le-one');
    const [leader, standby] = await startPair(namespace);
    const names = ['one', 'two', 'three', 'four', 'five'];
    await createConfigMaps(namespace, names);
    await eventually('the leader reconciled every object', () =>
      names.every((name) =>
        leader.lines.some((l) => l.event === 'reconciled' && l.key === `${namespace}/${name}`),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(standby.lines.filter((l) => l.event === 'reconciled' || l.event === 'leading')).toEqual([]);
  });

  it('should hand over within the lease duration and one retry period when the leader is killed (SIGKILL)', async () => {
    const namespace = await useTestNamespace('le-kill');
    const timing = { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 1_000 };
    const [leader, standby] = await startPair(namespace, timing);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // a few renewals
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await eventually('the standby to lead', () => standby.has('leading'), 15_000);
    const handover = (firstAt(standby, 'leading') ?? 0) - killedAt;
    console.log(
      `[leader-election] SIGKILL: standby leads ${handover} ms after the kill (lease ${timing.leaseDurationMs} ms)`,
    );
    // A standby times the holder's expiry from the renewal it last saw, then tries on its next retry
    // (client-go's semantics): the bound is the lease plus one retry period with its 1.2 jitter.
    expect(handover).toBeLessThanOrEqual(timing.leaseDurationMs + 1.2 * timing.retryPeriodMs);
    await createConfigMaps(namespace, ['after-kill']);
    await eventually('the new leader to reconcile', () =>
      standby.lines.some((l) => l.event === 'reconciled' && l.key === `${namespace}/after-kill`),
    );
  });

  it('should release the Lease on SIGTERM so that the standby takes over within one retry period, not the lease', async () => {
    const namespace = await useTestNamespace('le-term');
    // Default timing (15 s lease): without the release, the standby would wait for expiry.
    const [leader, standby] = await startPair(namespace);
    const terminatedAt = Date.now();
    leader.child.kill('SIGTERM');
    expect(await leader.exited).toBe(0);
    await eventually('the standby to lead', () => standby.has('leading'), 5_000);
    const handover = (firstAt(standby, 'leading') ?? 0) - terminatedAt;
    console.log(`[leader-election] SIGTERM: leader exited 0, standby leads ${handover} ms after the signal`);
    // Usually at once (the standby's Lease watch sees the release); at worst on its next attempt: one
    // retry period (2 s) with client-go's 1.2 jitter — far from the 15 s lease it would wait without it.
    expect(handover).toBeLessThan(2_000 * 1.2 + 1_000);
    const lease = await createKubeHttp(clusterKubeConfig()).json<{
      spec: { holderIdentity?: string; leaseTransitions?: number };
    }>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/coffre-test`);
    expect(lease.spec.holderIdentity).toBe(standby.identity);
    expect(lease.spec.leaseTransitions).toBe(1);
  });
});
