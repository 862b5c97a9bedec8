// The operator's KubeConfig is client-node's, loaded without the generated API modules: checked in a
// fresh node process (module resolution is per process), against the plain import as the control.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isGeneratedIndexOfConfig } from '../../../src/controller/kube-config.ts';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: canary-token-3f9a}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]
current-context: x
`;

interface Probe {
  generatedModules: number;
  server: string | undefined;
  namespace: string | undefined;
  authorization: string | undefined;
}

/** Loads a KubeConfig in a fresh process, the slim way or through the package index; counts generated modules. */
function probe(slim: boolean): Probe {
  // Inside the repository (.tmp is ignored by git), so that the probe resolves node_modules.
  const root = join(import.meta.dirname, '../../..');
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'kubeconfig-probe-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, KUBECONFIG);
  const module = pathToFileURL(join(import.meta.dirname, '../../../src/controller/kube-config.ts')).href;
  const script = join(dir, 'probe.mjs');
  writeFileSync(
    script,
    `import { registerHooks } from 'node:module';
let generatedModules = 0;
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (/\\/dist\\/gen\\/(apis|models)\\//.test(resolved.url)) generatedModules++;
    return resolved;
  },
});
const KubeConfig = ${slim} ? await (await import(${JSON.stringify(module)})).slimKubeConfig()
  : (await import(${JSON.stringify(module)}).then(() => import('@kubernetes/client-node'))).KubeConfig;
const kc = new KubeConfig();
kc.loadFromFile(${JSON.stringify(kubeconfig)});
const options = {};
await kc.applyToHTTPSOptions(options);
console.log(JSON.stringify({ generatedModules, server: kc.getCurrentCluster()?.server,
  namespace: kc.getContextObject(kc.getCurrentContext())?.namespace, authorization: options.headers?.Authorization }));
`,
  );
  try {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Probe;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('slimKubeConfig', () => {
  it('recognises only config.js importing the generated index', () => {
    const config = 'file:///app/node_modules/@kubernetes/client-node/dist/config.js';
    expect(isGeneratedIndexOfConfig('./gen/index.js', config)).toBe(true);
    expect(isGeneratedIndexOfConfig('./gen/index.js', 'file:///app/node_modules/x/dist/config.js')).toBe(
      false,
    );
    expect(isGeneratedIndexOfConfig('./gen/http/http.js', config)).toBe(false);
    expect(isGeneratedIndexOfConfig('./gen/index.js', undefined)).toBe(false);
  });

  // Two Node processes, one loading the whole of client-node: seconds on a loaded machine.
  it(
    'loads and applies a kubeconfig like the full package, without loading a generated API module',
    { timeout: 30_000 },
    () => {
      const full = probe(false);
      const slim = probe(true);
      expect(full.generatedModules).toBeGreaterThan(500);
      expect(slim.generatedModules).toBe(0);
      expect(slim).toEqual({ ...full, generatedModules: 0 });
      expect(slim.server).toBe('https://127.0.0.1:6443');
      expect(slim.namespace).toBe('team-a');
      expect(slim.authorization).toBe('Bearer canary-token-3f9a');
    },
  );
});
