// coffre's operator as a separate process (`node src/main.ts`), for what an in-process operator cannot
// show: a SIGKILL, with no chance to finish a write or flush anything. It authenticates as the chart's
// ServiceAccount, watches only the test's namespace and trusts the given CA; stdout (JSON log lines) is
// kept in memory. Every process started here is SIGKILLed after the test if it still runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { operatorKubeconfigPath } from './cluster.ts';

const root = join(import.meta.dirname, '../..');
const node = join(root, 'node_modules/.bin/node');

export interface OperatorProcess {
  child: ChildProcess;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

const started = new Set<ChildProcess>();
let cleanupRegistered = false;

export async function startOperatorProcess(options: {
  namespace: string;
  caPem?: string;
  flags?: string[];
}): Promise<OperatorProcess> {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterEach(() => {
      for (const child of started)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      started.clear();
    });
  }
  const flags = [
    'src/main.ts',
    `--kubeconfig=${operatorKubeconfigPath()}`,
    `--watch-namespaces=${options.namespace}`,
    '--leader-elect=false',
    '--metrics-port=-1',
    '--health-port=-1',
    '--log-level=debug',
    '--allowed-cidrs=127.0.0.1/32',
    ...(options.flags ?? []),
  ];
  if (options.caPem !== undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'coffre-process-ca-'));
    await writeFile(join(dir, 'ca.pem'), options.caPem);
    flags.push(`--ca-file=${join(dir, 'ca.pem')}`);
  }
  const child = spawn(node, flags, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let text = '';
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => {
      resolve();
    });
  });
  return {
    child,
    output: () => text,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
