// The container image without a Docker engine: the Dockerfile's steps, read from the Dockerfile itself,
// reproduced in a temporary directory (the build stage's tsc compile of src/ into dist/, with the
// repository's TypeScript in place of the build stage's `npm ci`; copy package.json, package-lock.json;
// the deps stage's `npm ci`), then the runtime stage's ENTRYPOINT run with the repository's Node 24 in place of
// /nodejs/bin/node and a scratch directory in place of /tmp. The operator started that way runs as the
// chart's ServiceAccount against the test control plane, with leader election, until SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../tools/controlplane/controlplane.ts';
import { RELEASE_NAMESPACE } from '../../support/chart.ts';
import { operatorKubeconfigPath, useTestNamespace } from '../../support/cluster.ts';
import { apply, kube, waitForCondition } from '../../support/kube.ts';
import { loadSample } from '../../support/samples.ts';

const root = join(import.meta.dirname, '../../..');
const node24 = join(root, 'node_modules/.bin/node');

interface Stage {
  from: string;
  name: string;
  instructions: { keyword: string; args: string }[];
}

/** The Dockerfile's stages and their instructions (continuation lines joined, comments dropped). */
function dockerStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', , name = ''] = rest;
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = dockerStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const build = stages.find((s) => s.name === 'build');
const deps = stages.find((s) => s.name === 'deps');
const runtime = stages.at(-1);
const args = (stage: Stage | undefined, keyword: string) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
const npmCommand = args(deps, 'RUN').find((a) => a.startsWith('npm ci')) ?? '';
const compileCommand = args(build, 'RUN').find((a) => a.startsWith('npx tsc')) ?? '';
const entrypoint = JSON.parse(args(runtime, 'ENTRYPOINT')[0] ?? '[]') as string[];

let scratch = '';
let app = '';
let writable = '';
let install: { status: number | null; output: string } = { status: null, output: '' };
let compile: { status: number | null; output: string } = { status: null, output: '' };

const env = (extra: Record<string, string> = {}) => ({
  PATH: `${dirname(node24)}${delimiter}${process.env.PATH ?? ''}`,
  HOME: process.env.HOME ?? '/nonexistent',
  TMPDIR: writable,
  ...extra,
});

/** The ENTRYPOINT with the repository's Node 24 for /nodejs/bin/node and the scratch dir for /tmp. */
function localEntrypoint(): [string, string[]] {
  const [binary, ...rest] = entrypoint;
  expect(binary).toBe('/nodejs/bin/node');
  return [
    node24,
    rest.map((arg) => (arg === '--allow-fs-write=/tmp' ? `--allow-fs-write=${writable}` : arg)),
  ];
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'coffre-image-'));
  app = join(scratch, 'app');
  writable = join(scratch, 'tmp');
  await mkdir(app);
  await mkdir(writable);
  // The build stage: its compile command, run in the repository (whose node_modules holds the same
  // TypeScript its `npm ci` installs), writing dist/ into the app directory.
  const [, , ...compileArgs] = compileCommand.split(/\s+/);
  const compiled = spawnSync(
    join(root, 'node_modules/.bin/tsc'),
    [...compileArgs, '--outDir', join(app, 'dist')],
    { cwd: root, env: env(), encoding: 'utf8', timeout: 180_000 },
  );
  compile = { status: compiled.status, output: `${compiled.stdout}${compiled.stderr}` };
  // COPY package.json package-lock.json ./ (deps), COPY --from=build /app/dist ./dist (runtime)
  await cp(join(root, 'package.json'), join(app, 'package.json'));
  await cp(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
  const [command = '', ...npmArgs] = npmCommand.split(/\s+/);
  const result = spawnSync(command, npmArgs, {
    cwd: app,
    // The local npm cache first: the same packages, fewer downloads.
    env: env({ npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  install = { status: result.status, output: `${result.stdout}${result.stderr}` };
}, 400_000);

afterAll(async () => {
  if (scratch !== '') await rm(scratch, { recursive: true, force: true });
});

describe('the container image (Dockerfile), reproduced without Docker', () => {
  it('compiles src/ with tsc, and builds from package.json, the lockfile, dist/ and a non-root user', () => {
    expect(build?.from).toMatch(/^node:24\./);
    expect(args(build, 'COPY')).toEqual([
      'package.json package-lock.json tsconfig.json tsconfig.build.json ./',
      'src ./src',
    ]);
    expect(compileCommand).toBe('npx tsc -p tsconfig.build.json');
    expect(compile.status, compile.output).toBe(0);
    expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
    // No TypeScript reaches the image, and no module still names a .ts file.
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(readFileSync(join(app, 'dist', 'controller', 'kube-config.js'), 'utf8')).not.toMatch(/\.ts['"`]/);
    expect(deps?.from).toMatch(/^node:24\./);
    expect(args(deps, 'COPY')).toContain('package.json package-lock.json ./');
    expect(npmCommand).toMatch(/^npm ci .*--omit=dev/);
    expect(npmCommand).toContain('--ignore-scripts');
    expect(runtime?.from).toMatch(/^gcr\.io\/distroless\/nodejs24-/);
    expect(args(runtime, 'COPY')).toEqual([
      '--from=deps /app/node_modules ./node_modules',
      'package.json ./',
      '--from=build /app/dist ./dist',
    ]);
    expect(args(runtime, 'USER')).toEqual(['65532:65532']);
    expect(entrypoint).toEqual(
      expect.arrayContaining(['--permission', '--allow-fs-write=/tmp', 'dist/main.js']),
    );
  });

  it('installs production dependencies only: nothing of the dev tooling', () => {
    expect(install.status, install.output).toBe(0);
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.dev === true)
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    for (const tool of [
      'typescript',
      'vitest',
      'oidc-provider',
      'eslint',
      'prettier',
      'pino-pretty',
      'node',
    ]) {
      expect(existsSync(join(app, 'node_modules', tool)), tool).toBe(false);
    }
    for (const dependency of ['@kubernetes/client-node', 'openid-client', 'pino', 'undici', 'yaml']) {
      expect(existsSync(join(app, 'node_modules', dependency)), dependency).toBe(true);
    }
  });

  it('prints its version with Node 24', () => {
    const [binary, nodeArgs] = localEntrypoint();
    const result = spawnSync(binary, [...nodeArgs, '--version'], { cwd: app, env: env(), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^coffre \d+\.\d+\.\d+ \(node v24\.\d+\.\d+\)\n$/);
  });

  it('may write under /tmp only: the permission flags refuse a write to the app directory', () => {
    const [binary, nodeArgs] = localEntrypoint();
    const flags = nodeArgs.filter((arg) => arg.startsWith('--permission') || arg.startsWith('--allow-'));
    const attempt = (path: string) =>
      spawnSync(binary, [...flags, '-e', `require('node:fs').writeFileSync(${JSON.stringify(path)}, 'x')`], {
        cwd: app,
        env: env(),
        encoding: 'utf8',
      });
    const refused = attempt(join(app, 'dist', 'planted.js'));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('ERR_ACCESS_DENIED');
    expect(attempt(join(writable, 'scratch')).status).toBe(0);
  });

  it(
    'runs the operator as the chart ServiceAccount: healthz, readyz after sync, leads, reconciles, exits 0 on SIGTERM',
    { timeout: 90_000 },
    async () => {
      const namespace = await useTestNamespace('image');
      const [healthPort, metricsPort] = [await freePort(), await freePort()];
      const id = randomBytes(4).toString('hex');
      const lease = `coffre-image-${id}`;
      const podName = `coffre-image-test-${id}`;
      const [binary, nodeArgs] = localEntrypoint();
      const child: ChildProcess = spawn(
        binary,
        [
          ...nodeArgs,
          `--kubeconfig=${operatorKubeconfigPath()}`,
          `--watch-namespaces=${namespace}`,
          '--health-host=127.0.0.1',
          `--health-port=${String(healthPort)}`,
          '--metrics-host=127.0.0.1',
          `--metrics-port=${String(metricsPort)}`,
          `--leader-election-lease=${lease}`,
          '--shutdown-grace=5s',
        ],
        { cwd: app, env: env({ POD_NAMESPACE: RELEASE_NAMESPACE, POD_NAME: podName }), stdio: 'pipe' },
      );
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('exit', (code, signal) => {
          resolve({ code, signal });
        });
      });
      const probe = async (path: string) =>
        fetch(`http://127.0.0.1:${String(healthPort)}${path}`)
          .then((response) => response.status)
          .catch(() => 0);
      try {
        await expect.poll(() => probe('/healthz'), { timeout: 20_000, interval: 100 }).toBe(200);
        await expect.poll(() => probe('/readyz'), { timeout: 20_000, interval: 100 }).toBe(200);
        const metrics = await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`);
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toContain('coffre_');

        for (const { object } of loadSample('api-key.yaml')) await apply(namespace, object);
        await waitForCondition(namespace, 'maps', 'Ready', 'True', 'CredentialsPublished');
        const held = await kube().json<{ spec: { holderIdentity?: string } }>(
          `/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NAMESPACE}/leases/${lease}`,
        );
        expect(held.spec.holderIdentity).toBe(podName);
      } catch (error) {
        console.error(`operator output:\n${output.slice(-4000)}`);
        throw error;
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, output.slice(-2000)).toEqual({ code: 0, signal: null });
      const released = await kube().json<{ spec: { holderIdentity?: string } }>(
        `/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NAMESPACE}/leases/${lease}`,
      );
      expect(released.spec.holderIdentity ?? '').not.toBe(podName);
      expect(output).not.toContain('ERR_ACCESS_DENIED');
    },
  );
});
