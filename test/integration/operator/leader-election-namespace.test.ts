// `npm start` against a cluster where the leader-election namespace does not exist (a fresh cluster and
// the default coffre-system): the operator must say so in one error line that names the namespace and
// the fixes, answer /readyz 503 (it can never lead) while /healthz stays 200 (a restart cannot create a
// namespace), and lead without a restart once the namespace is created. Runs src/main.ts as a person
// would, with an admin kubeconfig (the chart's ServiceAccount may only touch Leases in its own namespace).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../tools/controlplane/controlplane.ts';
import { clusterKubeconfigPath, useTestNamespace } from '../../support/cluster.ts';
import { kube } from '../../support/kube.ts';

const root = join(import.meta.dirname, '../../..');
const node = join(root, 'node_modules/.bin/node');

interface LogLine {
  level: string;
  msg: string;
  namespace?: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

describe('leader election in a namespace that does not exist', () => {
  it(
    'says what to do in one line, is not ready but live, and leads once the namespace is created',
    { timeout: 60_000 },
    async () => {
      const watched = await useTestNamespace('lens');
      const missing = `coffre-missing-${randomBytes(4).toString('hex')}`;
      const healthPort = await freePort();
      const child: ChildProcess = spawn(
        node,
        [
          'src/main.ts',
          `--kubeconfig=${clusterKubeconfigPath()}`,
          `--watch-namespaces=${watched}`,
          `--leader-election-namespace=${missing}`,
          '--leader-election-identity=lens-test',
          '--metrics-port=-1',
          '--health-host=127.0.0.1',
          `--health-port=${String(healthPort)}`,
        ],
        { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: 'pipe' },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      cleanups.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const lines = () =>
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as LogLine);
      const errors = () => lines().filter((line) => line.level === 'error');
      const probe = (path: string) =>
        fetch(`http://127.0.0.1:${String(healthPort)}${path}`)
          .then(async (response) => ({
            status: response.status,
            body: (await response.json()) as { detail: string[] },
          }))
          .catch(() => ({ status: 0, body: { detail: [] as string[] } }));

      try {
        await expect.poll(errors, { timeout: 20_000, interval: 100 }).toHaveLength(1);
        const [line] = errors();
        expect(line?.namespace).toBe(missing);
        expect(line?.msg).toBe(
          `leader election: namespace "${missing}" does not exist, so this replica cannot lead and reconciles nothing; ` +
            `to fix: kubectl create namespace ${missing}, or --leader-election-namespace=<an existing namespace> ` +
            `(POD_NAMESPACE), or --leader-elect=false when only this replica runs`,
        );
        const ready = await probe('/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body.detail).toContain(
          `leader election: namespace "${missing}" of the leader-election Lease does not exist`,
        );
        expect((await probe('/healthz')).status).toBe(200);
        // Three more retries (every 2–2.4 s) without another line: not a line every retry.
        await new Promise((resolve) => setTimeout(resolve, 7_000));
        expect(errors()).toHaveLength(1);
        expect(lines().filter((l) => l.level === 'warn')).toEqual([]);
        expect((await probe('/readyz')).status).toBe(503);

        await kube().json('/api/v1/namespaces', {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify({ metadata: { name: missing, labels: { 'coffre.dev/test': 'true' } } }),
        });
        cleanups.push(() => kube().json(`/api/v1/namespaces/${missing}`, { method: 'DELETE' }));
        await expect
          .poll(async () => (await probe('/readyz')).status, { timeout: 15_000, interval: 100 })
          .toBe(200);
        const lease = await kube().json<{ spec: { holderIdentity?: string } }>(
          `/apis/coordination.k8s.io/v1/namespaces/${missing}/leases/coffre-leader`,
        );
        expect(lease.spec.holderIdentity).toBe('lens-test');
        expect(lines().map((l) => l.msg)).toContain('leader election: the Lease namespace exists now');
      } catch (error) {
        console.error(`operator stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-2000)}`);
        throw error;
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    },
  );

  it('without leader election, stops in one line naming the record key and its namespace (exit 2)', async () => {
    const missing = `coffre-missing-${randomBytes(4).toString('hex')}`;
    const child = spawn(
      node,
      [
        'src/main.ts',
        `--kubeconfig=${clusterKubeconfigPath()}`,
        '--leader-elect=false',
        `--leader-election-namespace=${missing}`,
        '--metrics-port=-1',
        '--health-port=-1',
      ],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: 'pipe' },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`the record key Secret ${missing}/coffre-record-key cannot be created`);
    expect(lines[0]).toContain(`kubectl create namespace ${missing}`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
