// The operator's ServiceAccount, as the chart creates it, on the real API server: every end-to-end test
// runs the operator as it (test/support/operator.ts), which proves the rules are enough; this file proves
// they are no more than the operator calls, and that the dangerous verbs are refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKubeHttp, type KubeHttp } from '../../../src/controller/kube-http.ts';
import { RELEASE_NAMESPACE, renderChart } from '../../support/chart.ts';
import { helmPath, operatorKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { apply, kube } from '../../support/kube.ts';

function asOperator(): KubeHttp {
  return createKubeHttp(operatorKubeConfig());
}

interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Default: any namespace of users (a review needs no existing namespace). */
  namespace?: string;
}

async function mayI(http: KubeHttp, access: Access): Promise<boolean> {
  const review = await http.json<{ status: { allowed: boolean } }>(
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: access },
      }),
    },
  );
  return review.status.allowed;
}

const describeAccess = (a: Access) =>
  `${a.verb} ${a.group === '' ? '' : `${a.group}/`}${a.resource}${a.subresource === undefined ? '' : `/${a.subresource}`}${a.namespace === undefined ? '' : ` in ${a.namespace}`}`;

// What the operator calls (src/kube/kube-port.ts, src/controller/informer.ts, leader-election.ts).
const allowed: Access[] = [
  { verb: 'list', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'watch', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'list', group: 'coffre.dev', resource: 'oauthclients' },
  { verb: 'watch', group: 'coffre.dev', resource: 'oauthclients' },
  { verb: 'patch', group: 'coffre.dev', resource: 'vaultconnections', subresource: 'status' },
  { verb: 'patch', group: 'coffre.dev', resource: 'oauthclients', subresource: 'status' },
  { verb: 'update', group: 'coffre.dev', resource: 'vaultconnections', subresource: 'finalizers' },
  // The revokeOnDelete finalizer, applied by itself (the operator never sends a spec).
  { verb: 'patch', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'get', group: '', resource: 'secrets' },
  { verb: 'list', group: '', resource: 'secrets' },
  { verb: 'watch', group: '', resource: 'secrets' },
  { verb: 'create', group: '', resource: 'secrets' },
  { verb: 'update', group: '', resource: 'secrets' },
  { verb: 'create', group: '', resource: 'events' },
  { verb: 'patch', group: 'apps', resource: 'deployments' },
  { verb: 'patch', group: 'apps', resource: 'statefulsets' },
  { verb: 'patch', group: 'apps', resource: 'daemonsets' },
  { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
  { verb: 'list', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
  { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
  { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
  { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
];

// What it must never be able to do, even if compromised.
const refused: Access[] = [
  { verb: 'delete', group: '', resource: 'secrets' },
  { verb: 'deletecollection', group: '', resource: 'secrets' },
  { verb: 'patch', group: '', resource: 'secrets' },
  { verb: 'get', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'create', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'update', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'delete', group: 'coffre.dev', resource: 'vaultconnections' },
  { verb: 'update', group: 'coffre.dev', resource: 'oauthclients' },
  { verb: 'patch', group: 'coffre.dev', resource: 'oauthclients' },
  { verb: 'update', group: 'coffre.dev', resource: 'oauthclients', subresource: 'finalizers' },
  { verb: 'update', group: 'coffre.dev', resource: 'vaultconnections', subresource: 'status' },
  { verb: 'create', group: '', resource: 'pods' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'exec' },
  { verb: 'get', group: '', resource: 'configmaps' },
  { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token' },
  { verb: 'update', group: 'apps', resource: 'deployments' },
  { verb: 'create', group: 'apps', resource: 'deployments' },
  { verb: 'delete', group: 'apps', resource: 'deployments' },
  { verb: 'create', group: 'batch', resource: 'jobs' },
  { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' },
  { verb: 'delete', group: 'coordination.k8s.io', resource: 'leases', namespace: RELEASE_NAMESPACE },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'impersonate', group: '', resource: 'users' },
  { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
  { verb: 'get', group: '', resource: 'nodes' },
];

describe("the operator's ServiceAccount (the chart's RBAC)", () => {
  it('is the identity the end-to-end operator authenticates as', async () => {
    const review = await asOperator().json<{ status: { userInfo: { username: string; groups: string[] } } }>(
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      },
    );
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${RELEASE_NAMESPACE}:coffre`);
    expect(review.status.userInfo.groups).not.toContain('system:masters');
  });

  it('holds exactly the rules the operator calls, cluster-wide, and the Lease rule in its namespace', async () => {
    const objects = await renderChart(helmPath());
    const rules = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name)?.['rules'];
    expect(rules('ClusterRole', 'coffre-operator')).toEqual([
      {
        apiGroups: ['coffre.dev'],
        resources: ['vaultconnections', 'oauthclients'],
        verbs: ['list', 'watch'],
      },
      { apiGroups: ['coffre.dev'], resources: ['vaultconnections'], verbs: ['patch'] },
      {
        apiGroups: ['coffre.dev'],
        resources: ['vaultconnections/status', 'oauthclients/status'],
        verbs: ['patch'],
      },
      { apiGroups: ['coffre.dev'], resources: ['vaultconnections/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['patch'] },
    ]);
    expect(rules('Role', 'coffre-leader-election')).toEqual([
      // list and watch: a standby watches the Lease, so a released one is taken at once.
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'list', 'watch', 'create', 'update'],
      },
      // The record key: read by name, created on first start (docs/security.md).
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['coffre-record-key'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
  });

  it.each(allowed.map((a) => [describeAccess(a), a] as const))('may %s', async (_name, access) => {
    expect(await mayI(asOperator(), { namespace: 'payments', ...access })).toBe(true);
  });

  it.each(refused.map((a) => [describeAccess(a), a] as const))('may not %s', async (_name, access) => {
    expect(await mayI(asOperator(), { namespace: 'payments', ...access })).toBe(false);
  });

  it('is refused (403) deleting a Secret, which stays', async () => {
    const namespace = await useTestNamespace('rbac');
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'payments-db' },
      stringData: { password: 'FAKE-not-real' },
    });
    const response = await asOperator().send(`/api/v1/namespaces/${namespace}/secrets/payments-db`, {
      method: 'DELETE',
    });
    expect(response.status).toBe(403);
    expect((await kube().send(`/api/v1/namespaces/${namespace}/secrets/payments-db`)).status).toBe(200);
  });

  it("is refused (403) changing a VaultConnection's spec, by patch or by update", async () => {
    const namespace = await useTestNamespace('rbac');
    const connection = {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'maps' },
      spec: { type: 'apiKey', credentialsRef: { name: 'maps-credentials' } },
    };
    await apply(namespace, connection);
    const path = `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections/maps`;
    const patch = await asOperator().send(path, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ spec: { credentialsRef: { name: 'other' } } }),
    });
    expect(patch.status).toBe(403);
    const update = await asOperator().send(path, {
      method: 'PUT',
      contentType: 'application/json',
      body: JSON.stringify({ ...connection, metadata: { name: 'maps', namespace } }),
    });
    expect(update.status).toBe(403);
  });

  it('is refused (403) creating a Pod', async () => {
    const namespace = await useTestNamespace('rbac');
    const response = await asOperator().send(`/api/v1/namespaces/${namespace}/pods`, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `escape-${randomBytes(3).toString('hex')}` },
        spec: { containers: [{ name: 'shell', image: 'busybox' }] },
      }),
    });
    expect(response.status).toBe(403);
  });
});
