// The Helm chart as the tests see it: `helm template` and `helm lint` on charts/coffre, the rendered
// objects parsed, and the operator's own identity (ServiceAccount and RBAC) picked out of a render.
// No vitest import: the integration global setup uses it too.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const CHART_DIR = join(import.meta.dirname, '../../charts/coffre');
/** The release and namespace the tests install the operator's identity as (like manifests/install.yaml). */
export const RELEASE = 'coffre';
export const RELEASE_NAMESPACE = 'coffre-system';
/** The control plane's version: the chart's kubeVersion constraint needs one when there is no cluster. */
export const KUBE_VERSION = '1.37.2';

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ChartOptions {
  namespace?: string;
  /** Values, as a values file would hold them (passed on stdin, `--values -`). */
  values?: Record<string, unknown>;
  /** Extra arguments, e.g. `--set`, `--skip-schema-validation`. */
  args?: string[];
}

/** Runs helm with arguments and optional stdin; resolves with its exit code and output, never rejects on a non-zero code. */
export function runHelm(helm: string, args: string[], stdin?: string): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

function chartArgs(options: ChartOptions): string[] {
  return [
    '--kube-version',
    KUBE_VERSION,
    ...(options.values === undefined ? [] : ['--values', '-']),
    ...(options.args ?? []),
  ];
}

/** `helm template` of the chart; the result's code says whether the render (and the values schema) passed. */
export function templateChart(helm: string, options: ChartOptions = {}): Promise<HelmResult> {
  return runHelm(
    helm,
    [
      'template',
      RELEASE,
      CHART_DIR,
      '--namespace',
      options.namespace ?? RELEASE_NAMESPACE,
      ...chartArgs(options),
    ],
    options.values === undefined ? undefined : JSON.stringify(options.values),
  );
}

export function lintChart(helm: string, options: ChartOptions = {}): Promise<HelmResult> {
  return runHelm(
    helm,
    [
      'lint',
      CHART_DIR,
      '--strict',
      '--namespace',
      options.namespace ?? RELEASE_NAMESPACE,
      ...chartArgs(options),
    ],
    options.values === undefined ? undefined : JSON.stringify(options.values),
  );
}

/** Renders the chart and parses its objects; throws with helm's message when the render fails. */
export async function renderChart(helm: string, options: ChartOptions = {}): Promise<KubeManifest[]> {
  const result = await templateChart(helm, options);
  if (result.code !== 0) throw new Error(`helm template failed (${String(result.code)}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): KubeManifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeManifest | null)
    .filter((object): object is KubeManifest => object !== null);
}

/**
 * The operator's identity out of a render of the chart with default values: its ServiceAccount, the
 * ClusterRole and ClusterRoleBinding of the operator, and the leader-election Role and RoleBinding.
 * Exactly those five objects; a missing one throws.
 */
export function operatorIdentityObjects(objects: KubeManifest[], release = RELEASE): KubeManifest[] {
  const wanted: [kind: string, name: string][] = [
    ['ServiceAccount', release],
    ['ClusterRole', `${release}-operator`],
    ['ClusterRoleBinding', `${release}-operator`],
    ['Role', `${release}-leader-election`],
    ['RoleBinding', `${release}-leader-election`],
  ];
  return wanted.map(([kind, name]) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (found === undefined) throw new Error(`the chart renders no ${kind} ${name}`);
    return found;
  });
}
