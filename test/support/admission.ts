// The chart's admission policy and people's roles on the test control plane, and requests made as
// another user (impersonation, as `kubectl --as` does). The global setup installs the policy before any
// suite runs, so every integration test meets the API server a cluster with the chart would be.
// No vitest import: the integration global setup uses it.
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeHttp, type KubeHttp } from '../../src/controller/kube-http.ts';
import type { KubeManifest } from './chart.ts';
import { createApplier } from './server-side-apply.ts';

export const USER_ROLES = ['coffre-view', 'coffre-edit', 'coffre-admin'] as const;
const PROBE_NAMESPACE = 'coffre-admission-probe';
const PROBE_USER = 'coffre-admission-probe';

/** The ValidatingAdmissionPolicy and its binding out of a render of the chart. */
export function admissionPolicyObjects(objects: KubeManifest[]): KubeManifest[] {
  const found = objects.filter(
    (o) => o.kind === 'ValidatingAdmissionPolicy' || o.kind === 'ValidatingAdmissionPolicyBinding',
  );
  if (found.length !== 2) throw new Error(`the chart renders ${found.length} admission objects, not 2`);
  return found;
}

export function userRoleObjects(objects: KubeManifest[]): KubeManifest[] {
  return USER_ROLES.map((name) => {
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name);
    if (role === undefined) throw new Error(`the chart renders no ClusterRole ${name}`);
    return role;
  });
}

/** A copy of an admin KubeConfig that acts as `user` (Impersonate-User), in `system:authenticated`. */
export function impersonating(admin: KubeConfig, user: string): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromString(admin.exportConfig());
  const current = kc.getCurrentUser();
  if (current === null) throw new Error('the admin kubeconfig has no current user');
  (current as { impersonateUser?: string }).impersonateUser = user;
  return createKubeHttp(kc);
}

export async function applyAll(http: KubeHttp, objects: KubeManifest[]): Promise<void> {
  const applier = createApplier(http);
  for (const object of objects) {
    const outcome = await applier.apply(object, { fieldManager: 'coffre-tests-install', force: true });
    if (outcome.status >= 300) {
      throw new Error(`cannot apply ${object.kind} ${object.metadata.name}: ${outcome.message}`);
    }
  }
}

/**
 * Installs the user roles and the admission policy, then waits until the API server enforces the policy:
 * a coffre-edit user's dry-run reference to a Secret it may not read is refused by it.
 */
export async function installAdmissionPolicy(
  admin: KubeConfig,
  objects: KubeManifest[],
  timeoutMs = 30_000,
): Promise<void> {
  const http = createKubeHttp(admin);
  await applyAll(http, [
    ...userRoleObjects(objects),
    ...admissionPolicyObjects(objects),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'probe-coffre-edit', namespace: PROBE_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'coffre-edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: PROBE_USER }],
    },
  ]);
  const probe = impersonating(admin, PROBE_USER);
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const response = await probe.send(
      `/apis/coffre.dev/v1alpha1/namespaces/${PROBE_NAMESPACE}/vaultconnections`,
      {
        method: 'POST',
        query: { dryRun: 'All' },
        contentType: 'application/json',
        body: JSON.stringify({
          apiVersion: 'coffre.dev/v1alpha1',
          kind: 'VaultConnection',
          metadata: { name: 'probe' },
          spec: { type: 'apiKey', credentialsRef: { name: 'probe-secret' } },
        }),
      },
    );
    last = `${response.status} ${await response.text()}`;
    if (response.status === 403 && last.includes('may not get Secret probe-secret')) return;
    if (Date.now() > deadline)
      throw new Error(`the admission policy is not enforced after ${timeoutMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
