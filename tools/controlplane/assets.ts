// Finds or builds the control-plane binaries. KUBEBUILDER_ASSETS (as setup-envtest gives) wins;
// otherwise scripts/controlplane/build-assets.sh builds them once per version into a cache outside the
// repository, printing progress, and prints the directory as its last line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Assets {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  /** Absent when KUBEBUILDER_ASSETS points at a folder without it. */
  kubeControllerManager?: string;
}

const repositoryRoot = join(import.meta.dirname, '../..');
export const buildScript = join(repositoryRoot, 'scripts/controlplane/build-assets.sh');

function assetsIn(dir: string): Assets {
  const etcd = join(dir, 'etcd');
  const kubeApiserver = join(dir, 'kube-apiserver');
  const kcm = join(dir, 'kube-controller-manager');
  for (const binary of [etcd, kubeApiserver]) {
    if (!existsSync(binary)) throw new Error(`control-plane binary missing: ${binary}`);
  }
  return { dir, etcd, kubeApiserver, ...(existsSync(kcm) ? { kubeControllerManager: kcm } : {}) };
}

/** Runs the asset script with `args`; progress (stderr) goes to onProgress; returns stdout's last line. */
export function runAssetScript(args: string[], onProgress: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onProgress(line);
    });
    child.on('error', reject);
    // 'close', not 'exit': only then has all of stdout arrived (under load 'exit' can come first, and the
    // path on the last line would be lost).
    child.on('close', (code) => {
      if (pending.trim() !== '') onProgress(pending);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last !== '') resolve(last);
      else reject(new Error(`${buildScript} ${args.join(' ')} failed with exit code ${String(code)}`));
    });
  });
}

export async function ensureAssets(options: { onProgress?: (line: string) => void } = {}): Promise<Assets> {
  const fromEnv = process.env.KUBEBUILDER_ASSETS;
  if (fromEnv !== undefined && fromEnv !== '') return assetsIn(fromEnv);
  const dir = await runAssetScript([], options.onProgress ?? ((line) => process.stderr.write(`${line}\n`)));
  return assetsIn(dir);
}

/** The helm binary, built once by the same script. */
export async function ensureHelm(options: { onProgress?: (line: string) => void } = {}): Promise<string> {
  return runAssetScript(['--helm'], options.onProgress ?? ((line) => process.stderr.write(`${line}\n`)));
}

/**
 * coffre-health (tools/health-check): kstatus' status.Compute and an Argo CD health-script VM, built
 * once per version by the same script.
 */
export async function ensureHealthCheck(
  options: { onProgress?: (line: string) => void } = {},
): Promise<string> {
  return runAssetScript(
    ['--health-check'],
    options.onProgress ?? ((line) => process.stderr.write(`${line}\n`)),
  );
}
