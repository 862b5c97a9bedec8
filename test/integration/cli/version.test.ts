// kubectl coffre version, and the plugin as kubectl finds it: `kubectl coffre ...` with kubectl-coffre
// on PATH (kubectl's plugin mechanism), nothing else installed.
import { spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import packageJson from '../../../package.json' with { type: 'json' };
import { useTestNamespace } from '../../support/cluster.ts';
import { BIN_DIR, cli, installOperatorDeployment, kubeconfigFile } from './support.ts';
import { teamNamespace } from './fixtures.ts';

function kubectl(
  args: string[],
  kubeconfig: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn('kubectl', args, {
    // kubectl-coffre and a Node that runs it, first on PATH; kubectl's own flags come before `coffre`.
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      PATH: `${BIN_DIR}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    }),
  );
}

// kubectl is a client the machine may lack (CI installs none); the rest of the suite runs the plugin directly.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe('kubectl coffre version', () => {
  it("prints the plugin's and the operator's versions and warns when they differ", async () => {
    const operatorNamespace = await useTestNamespace('cli-version');
    const kubeconfig = await kubeconfigFile();
    await installOperatorDeployment(operatorNamespace, { args: [], version: '0.0.9' });
    const differ = await cli(['version', '--operator-namespace', operatorNamespace], kubeconfig);
    expect(differ.code).toBe(0);
    expect(differ.stdout).toBe(`kubectl-coffre ${packageJson.version}\noperator       0.0.9\n`);
    expect(differ.stderr).toBe(
      `warning: the plugin (${packageJson.version}) and the operator (0.0.9) differ; use the plugin of the operator's release\n`,
    );
    await installOperatorDeployment(operatorNamespace, { args: [], version: packageJson.version });
    const same = await cli(['version', '--operator-namespace', operatorNamespace, '-o', 'json'], kubeconfig);
    expect(same.stderr).toBe('');
    expect(JSON.parse(same.stdout)).toEqual({ plugin: packageJson.version, operator: packageJson.version });
    const none = await cli(['version', '--operator-namespace', 'kube-public'], kubeconfig);
    expect(none.stdout).toBe(
      `kubectl-coffre ${packageJson.version}\noperator       unknown (no Deployment labelled app.kubernetes.io/name=coffre in namespace kube-public)\n`,
    );
  });

  it('runs as a kubectl plugin', async (context) => {
    if (!hasKubectl) context.skip('kubectl is not on PATH');
    const team = await teamNamespace('cli-plugin', { empty: false });
    const kubeconfig = await kubeconfigFile();
    const list = await kubectl(['plugin', 'list'], kubeconfig);
    expect(list.stdout).toContain(`${BIN_DIR}/kubectl-coffre`);
    const version = await kubectl(['coffre', 'version', '--client'], kubeconfig);
    expect(version).toEqual({ code: 0, stdout: `kubectl-coffre ${packageJson.version}\n`, stderr: '' });
    const status = await kubectl(['coffre', 'status', '-n', team.namespace], kubeconfig);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^NAME\s+TYPE\s+STATE/);
    expect(status.stdout).toMatch(/\nmaps\s+apiKey\s+Ready\s+CredentialsPublished/);
  });
});
