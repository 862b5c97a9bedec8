// Running kubectl-coffre as a user runs it: a separate process (bin/kubectl-coffre), a kubeconfig file,
// optionally a pseudo-terminal (util-linux `script`), and a user made by impersonation (the kubeconfig's
// `as:`, which is what Impersonate-User is to client-node).
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { clusterKubeConfig } from '../../support/cluster.ts';
import { apply, kube } from '../../support/kube.ts';
import { waitForAccess } from '../../support/people.ts';

export const CLI = resolve(import.meta.dirname, '../../../bin/kubectl-coffre');
export const BIN_DIR = resolve(import.meta.dirname, '../../../bin');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every output of the CLI in this test file, to prove that no secret ever reaches one. */
export const transcript: string[] = [];

/** A kubeconfig for the control plane, acting as `user` (impersonation) when given, in `namespace`. */
export async function kubeconfigFile(options: { as?: string; namespace?: string } = {}): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromString(clusterKubeConfig().exportConfig());
  const user = kc.getCurrentUser();
  if (user === null) throw new Error('the admin kubeconfig has no current user');
  if (options.as !== undefined) (user as { impersonateUser?: string }).impersonateUser = options.as;
  const context = kc.getContextObject(kc.getCurrentContext());
  if (options.namespace !== undefined && context !== null) {
    (context as { namespace?: string }).namespace = options.namespace;
  }
  const dir = await mkdtemp(join(tmpdir(), 'coffre-cli-'));
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

function collect(child: ReturnType<typeof spawn>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      transcript.push(stdout, stderr);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs `kubectl-coffre ARGS` with KUBECONFIG set; stdin is not a terminal. */
export function cli(args: string[], kubeconfig: string, env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

/** Runs a shell command line under a pseudo-terminal (`script`), answering prompts as they appear. */
export async function underTerminal(
  commandLine: string,
  env: Record<string, string>,
  answers: readonly { when: string | RegExp; send: string }[] = [],
): Promise<CliRun> {
  const child = spawn('script', ['-q', '-e', '-c', commandLine, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm-256color', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let seen = '';
  let next = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    // Answer each prompt once it is on the screen: typing ahead would reach the terminal before the CLI
    // has turned echo off, and the terminal itself would echo it.
    while (next < answers.length) {
      const answer = answers[next];
      if (answer === undefined) break;
      const found = typeof answer.when === 'string' ? seen.includes(answer.when) : answer.when.test(seen);
      if (!found) break;
      seen = '';
      next++;
      child.stdin.write(answer.send);
    }
  });
  return collect(child);
}

export function shellQuote(args: readonly string[]): string {
  return args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
}

/**
 * What the chart installs in the operator's namespace, as far as the CLI reads it: a Deployment labelled
 * app.kubernetes.io/name=coffre whose container args carry the operator's flags, and the CA ConfigMap it
 * mounts. (The operator itself runs in-process in the tests; no kubelet runs these pods.)
 */
export async function installOperatorDeployment(
  namespace: string,
  options: { args: string[]; caPem?: string; version?: string },
): Promise<void> {
  if (options.caPem !== undefined) {
    await kube().json(`/api/v1/namespaces/${namespace}/configmaps/coffre-ca`, {
      method: 'PATCH',
      query: { fieldManager: 'coffre-tests', force: true },
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'coffre-ca', namespace },
        data: { 'ca.crt': options.caPem },
      }),
    });
  }
  const labels = { 'app.kubernetes.io/name': 'coffre', 'app.kubernetes.io/instance': 'coffre' };
  await apply(namespace, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'coffre',
      labels: { ...labels, 'app.kubernetes.io/version': options.version ?? '0.1.0' },
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'operator',
              image: `ghcr.io/coffre-dev/coffre:${options.version ?? '0.1.0'}`,
              args: [
                ...options.args,
                ...(options.caPem === undefined ? [] : ['--ca-file=/etc/coffre/ca/ca.crt']),
              ],
              ...(options.caPem === undefined
                ? {}
                : { volumeMounts: [{ name: 'ca', mountPath: '/etc/coffre/ca', readOnly: true }] }),
            },
          ],
          ...(options.caPem === undefined
            ? {}
            : { volumes: [{ name: 'ca', configMap: { name: 'coffre-ca' } }] }),
        },
      },
    },
  });
}

/** Binds a user to a ClusterRole in a namespace and waits until the authorizer knows it. */
export async function bindRole(namespace: string, user: string, clusterRole: string): Promise<void> {
  await kube().json(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${user}-${clusterRole}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    }),
  });
  await waitForAccess(user, { group: 'coffre.dev', resource: 'vaultconnections', verb: 'list', namespace });
}
