// The single executable (npm run build:sea): built by this test, then run — the launcher and its
// archive always (they are what the executable holds), the executable itself when postject is there to
// inject them into a Node binary.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../../package.json' with { type: 'json' };
import { teamNamespace } from './fixtures.ts';
import { kubeconfigFile } from './support.ts';

const root = resolve(import.meta.dirname, '../../..');
let out: string;
let build: { status: number | null; stdout: string; stderr: string };

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd: tmpdir() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done) =>
    child.once('close', (code) => {
      done({ code: code ?? -1, stdout, stderr });
    }),
  );
}

describe('the single executable', () => {
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'coffre-sea-'));
    const result = spawnSync(process.execPath, [join(root, 'scripts/cli/build-sea.ts'), '--out', out], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    build = { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }, 150_000);

  it('packs the CLI into one archive whose launcher runs it with no repository around', async () => {
    expect(build.stderr).not.toMatch(/Error/);
    expect(build.stdout).toMatch(/sea: \d+ files, archive \d+\.\d MB, blob /);
    // The archive moved elsewhere and unpacked into an empty cache: nothing comes from this checkout.
    const elsewhere = await mkdtemp(join(tmpdir(), 'coffre-sea-run-'));
    await copyFile(join(out, 'app.bin'), join(elsewhere, 'app.bin'));
    await copyFile(join(out, 'launcher.cjs'), join(elsewhere, 'launcher.cjs'));
    const env = {
      KUBECTL_COFFRE_ARCHIVE: join(elsewhere, 'app.bin'),
      XDG_CACHE_HOME: join(elsewhere, 'cache'),
    };
    const launcher = join(elsewhere, 'launcher.cjs');
    expect(await run(process.execPath, [launcher, '--version'], env)).toEqual({
      code: 0,
      stdout: `kubectl-coffre ${packageJson.version}\n`,
      stderr: '',
    });
    const help = await run(process.execPath, [launcher, '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Commands:\n {2}status +Show the state/m);
    const team = await teamNamespace('cli-sea', { empty: false });
    const status = await run(process.execPath, [launcher, 'status', '-n', team.namespace], {
      ...env,
      KUBECONFIG: await kubeconfigFile(),
    });
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/\nmaps\s+apiKey\s+Ready\s+CredentialsPublished/);
    expect(status.code).toBe(0);
  });

  it('is one binary that answers --version and --help (needs postject)', async (context) => {
    if (build.status === 3 && build.stderr.includes('postject is not installed')) {
      context.skip(
        'postject is not installed (npm install --save-dev postject): the blob cannot be injected',
      );
    }
    expect(build.status).toBe(0);
    const binary = join(out, 'kubectl-coffre');
    const env = { XDG_CACHE_HOME: await mkdtemp(join(tmpdir(), 'coffre-sea-cache-')), PATH: '/usr/bin:/bin' };
    expect(await run(binary, ['--version'], env)).toEqual({
      code: 0,
      stdout: `kubectl-coffre ${packageJson.version}\n`,
      stderr: '',
    });
    const help = await run(binary, ['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kubectl coffre COMMAND \[flags\]$/m);
  });
});
