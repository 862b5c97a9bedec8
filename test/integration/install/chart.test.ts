// The Helm chart against the real API server: `helm lint --strict`, and every object of a render (default
// values, and the values of a hardened production install) applied with a server-side dry-run and strict
// field validation into a namespace that warns on the restricted pod security level: accepted, and not
// one warning. values.schema.json refuses bad values before anything renders.
//
// ServiceMonitor and PrometheusRule need prometheus-operator's CRDs, absent from a bare API server: the
// test installs stand-ins that declare exactly the fields the chart sets, with upstream's types and
// patterns (test/fixtures/monitoring-coreos-crds.yaml), so a misspelt or mistyped field still fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_POLICY_NAME, referencePolicy } from '../../../scripts/generate/admission-policy.ts';
import {
  lintChart,
  parseManifests,
  renderChart,
  templateChart,
  type KubeManifest,
} from '../../support/chart.ts';
import { helmPath, useTestNamespace } from '../../support/cluster.ts';
import { kube } from '../../support/kube.ts';
import { applyProblems, createApplier } from '../../support/server-side-apply.ts';
import { waitUntil } from '../../support/wait.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function productionValues(watchNamespaces: string[]): Record<string, unknown> {
  return {
    image: { digest: DIGEST },
    crds: { install: false },
    operator: {
      watchNamespaces,
      allowedCIDRs: ['10.96.0.0/12'],
      caBundle: { configMapName: 'corporate-ca', key: 'ca.crt' },
      extraArgs: ['--max-response-bytes=524288'],
    },
    networkPolicy: {
      enabled: true,
      apiServer: { cidrs: ['172.20.0.1/32'], port: 6443 },
      metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    },
    metrics: {
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
      prometheusRule: { enabled: true, expiringWithin: '15m' },
      grafanaDashboard: { enabled: true },
    },
  };
}

/** A namespace where pod security warns on anything below restricted, as coffre-system is labelled. */
async function restrictedNamespace(prefix: string): Promise<string> {
  const namespace = await useTestNamespace(prefix);
  await kube().json(`/api/v1/namespaces/${namespace}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({
      metadata: {
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    }),
  });
  return namespace;
}

const dryRunProblems = (objects: KubeManifest[]) => applyProblems(kube(), objects, { dryRun: true });

const kinds = (objects: KubeManifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

beforeAll(async () => {
  const applier = createApplier(kube());
  const stubs = parseManifests(
    readFileSync(join(import.meta.dirname, '../../fixtures/monitoring-coreos-crds.yaml'), 'utf8'),
  );
  for (const crd of stubs) {
    const outcome = await applier.apply(crd, { fieldManager: 'coffre-tests-install', force: true });
    if (outcome.status >= 300) throw new Error(`cannot apply ${crd.metadata.name}: ${outcome.message}`);
  }
  for (const crd of stubs) {
    await waitUntil(`CRD ${crd.metadata.name} established`, async () => {
      const live = await kube().json<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      );
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
    });
  }
});

describe('the Helm chart', () => {
  it('passes helm lint --strict with default values', async () => {
    const result = await lintChart(helmPath());
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('passes helm lint --strict with production values', async () => {
    const result = await lintChart(helmPath(), { values: productionValues(['payments', 'identity']) });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('renders default values into objects the API server accepts without a warning (dry-run)', async () => {
    const objects = await renderChart(helmPath());
    expect(kinds(objects)).toEqual([
      'ClusterRole/coffre-admin',
      'ClusterRole/coffre-edit',
      'ClusterRole/coffre-operator',
      'ClusterRole/coffre-view',
      'ClusterRoleBinding/coffre-operator',
      'CustomResourceDefinition/oauthclients.coffre.dev',
      'CustomResourceDefinition/vaultconnections.coffre.dev',
      'Deployment/coffre',
      'PodDisruptionBudget/coffre',
      'Role/coffre-leader-election',
      'RoleBinding/coffre-leader-election',
      'Service/coffre-metrics',
      'ServiceAccount/coffre',
      'ValidatingAdmissionPolicy/references.coffre.dev',
      'ValidatingAdmissionPolicyBinding/references.coffre.dev',
    ]);
    expect(await dryRunProblems(objects)).toEqual([]);
  });

  it('ships the reference admission policy as generated, with a binding that denies by default', async () => {
    const objects = await renderChart(helmPath());
    const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy');
    const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    expect(policy?.['spec']).toEqual((referencePolicy() as { spec: unknown }).spec);
    expect(binding?.['spec']).toEqual({ policyName: REFERENCE_POLICY_NAME, validationActions: ['Deny'] });
    const tryOut = await renderChart(helmPath(), {
      values: { admissionPolicy: { validationActions: ['Warn', 'Audit'] } },
    });
    expect(tryOut.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')?.['spec']).toEqual({
      policyName: REFERENCE_POLICY_NAME,
      validationActions: ['Warn', 'Audit'],
    });
    const off = await renderChart(helmPath(), { values: { admissionPolicy: { enabled: false } } });
    expect(off.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });

  it('carves the metadata ranges out of both an IPv4 and an IPv6 catch-all egress (dry-run accepted)', async () => {
    const objects = await renderChart(helmPath(), {
      values: { networkPolicy: { enabled: true, egressCIDRs: ['0.0.0.0/0', '::/0', '203.0.113.0/24'] } },
    });
    const policy = objects.find((o) => o.kind === 'NetworkPolicy');
    const blocks = (
      policy?.['spec'] as { egress: { to?: { ipBlock?: { cidr: string; except?: string[] } }[] }[] }
    ).egress
      .flatMap((rule) => rule.to ?? [])
      .flatMap((peer) => (peer.ipBlock === undefined ? [] : [peer.ipBlock]));
    const except = (cidr: string) => blocks.find((b) => b.cidr === cidr)?.except ?? [];
    expect(except('0.0.0.0/0')).toEqual(expect.arrayContaining(['169.254.0.0/16', '100.100.100.200/32']));
    expect(except('0.0.0.0/0').some((c) => c.includes(':'))).toBe(false);
    expect(except('::/0')).toEqual(expect.arrayContaining(['fd00:ec2::/32', 'fe80::/10']));
    expect(except('::/0').some((c) => !c.includes(':'))).toBe(false);
    expect(except('203.0.113.0/24')).toEqual([]);
    expect(await dryRunProblems(objects.filter((o) => o.kind === 'NetworkPolicy'))).toEqual([]);
  });

  it('renders production values into objects the API server accepts without a warning (dry-run)', async () => {
    const release = await restrictedNamespace('release');
    const watched = [await useTestNamespace('payments'), await useTestNamespace('identity')];
    const objects = await renderChart(helmPath(), { namespace: release, values: productionValues(watched) });
    expect(kinds(objects)).toEqual(
      [
        'ClusterRole/coffre-admin',
        'ClusterRole/coffre-edit',
        'ClusterRole/coffre-view',
        'ConfigMap/coffre-dashboard',
        'Deployment/coffre',
        'NetworkPolicy/coffre',
        'PodDisruptionBudget/coffre',
        'PrometheusRule/coffre',
        'Role/coffre-leader-election',
        'Role/coffre-operator',
        'Role/coffre-operator',
        'RoleBinding/coffre-leader-election',
        'RoleBinding/coffre-operator',
        'RoleBinding/coffre-operator',
        'Service/coffre-metrics',
        'ServiceAccount/coffre',
        'ServiceMonitor/coffre',
        'ValidatingAdmissionPolicy/references.coffre.dev',
        'ValidatingAdmissionPolicyBinding/references.coffre.dev',
      ].sort(),
    );
    expect(
      objects
        .filter((o) => o.kind === 'Role' && o.metadata.name === 'coffre-operator')
        .map((o) => o.metadata.namespace),
    ).toEqual(watched);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const container = (
      deployment?.['spec'] as { template: { spec: { containers: { image: string; args: string[] }[] } } }
    ).template.spec.containers[0];
    expect(container?.image).toBe(`ghcr.io/coffre-dev/coffre@${DIGEST}`);
    expect(container?.args).toEqual(
      expect.arrayContaining([
        `--watch-namespaces=${watched.join(',')}`,
        '--allowed-cidrs=10.96.0.0/12',
        '--ca-file=/etc/coffre/ca/ca.crt',
        '--max-response-bytes=524288',
      ]),
    );
    expect(await dryRunProblems(objects)).toEqual([]);
  });

  it.each([
    ['an image tag as digest', { image: { digest: 'latest' } }, '/image/digest'],
    ['zero replicas', { replicaCount: 0 }, '/replicaCount'],
    [
      'an unknown admission validation action',
      { admissionPolicy: { validationActions: ['Block'] } },
      '/admissionPolicy/validationActions/0',
    ],
    [
      'an allowlist entry without a prefix length',
      { operator: { allowedCIDRs: ['10.0.0.1'] } },
      '/operator/allowedCIDRs/0',
    ],
    ['an unknown log level', { operator: { logLevel: 'verbose' } }, '/operator/logLevel'],
    ['a misspelt key', { operator: { allowedCidrs: ['10.0.0.0/8'] } }, 'allowedCidrs'],
    [
      'an extra argument that is not a flag',
      { operator: { extraArgs: ['sh -c id'] } },
      '/operator/extraArgs/0',
    ],
    [
      'a watched namespace that cannot exist',
      { operator: { watchNamespaces: ['Payments'] } },
      '/operator/watchNamespaces/0',
    ],
  ])('refuses %s (values.schema.json)', async (_title, values, path) => {
    const result = await templateChart(helmPath(), { values });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(path);
    expect(result.stdout).toBe('');
  });

  it('fails helm lint on a value the schema refuses', async () => {
    const result = await lintChart(helmPath(), { values: { image: { digest: 'latest' } } });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('/image/digest');
  });
});
