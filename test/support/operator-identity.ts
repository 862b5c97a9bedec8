// The operator's identity on the test control plane, as the chart creates it in a cluster: the
// ServiceAccount, its ClusterRole/ClusterRoleBinding and the leader-election Role/RoleBinding taken
// from `helm template` of charts/coffre, applied server-side, then a token minted for the
// ServiceAccount with the TokenRequest API and written into a kubeconfig. The operator in the
// end-to-end tests runs with that kubeconfig, so a permission the chart forgot fails a test.
// No vitest import: the integration global setup uses it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeHttp, type KubeHttp } from '../../src/controller/kube-http.ts';
import {
  RELEASE,
  RELEASE_NAMESPACE,
  operatorIdentityObjects,
  renderChart,
  type KubeManifest,
} from './chart.ts';
import { kubeconfigYaml } from '../../tools/controlplane/controlplane.ts';
import { createApplier } from './server-side-apply.ts';

export interface OperatorIdentity {
  /** A kubeconfig whose only credential is the ServiceAccount's bearer token. */
  kubeconfigPath: string;
  namespace: string;
  serviceAccount: string;
  /** `system:serviceaccount:<namespace>:<name>` */
  username: string;
}

interface Options {
  helm: string;
  /** Where the kubeconfig is written. */
  dir: string;
  server: string;
  caFile: string;
  /** Token lifetime; longer than any test run. */
  expirationSeconds?: number;
}

export async function installOperatorIdentity(
  admin: KubeConfig,
  options: Options,
): Promise<OperatorIdentity> {
  const http = createKubeHttp(admin);
  const applier = createApplier(http);
  const namespace: KubeManifest = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: RELEASE_NAMESPACE,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
  const objects = [namespace, ...operatorIdentityObjects(await renderChart(options.helm))];
  for (const object of objects) {
    const outcome = await applier.apply(object, { fieldManager: 'coffre-tests-install', force: true });
    if (outcome.status >= 300) {
      throw new Error(`cannot apply ${object.kind} ${object.metadata.name}: ${outcome.message}`);
    }
  }
  const serviceAccount = RELEASE;
  const token = await requestToken(
    http,
    RELEASE_NAMESPACE,
    serviceAccount,
    options.expirationSeconds ?? 86_400,
  );
  const kubeconfigPath = join(options.dir, `kubeconfig-sa-${RELEASE_NAMESPACE}-${serviceAccount}`);
  await writeFile(kubeconfigPath, kubeconfigYaml(options.server, options.caFile, serviceAccount, { token }), {
    mode: 0o600,
  });
  const identity: OperatorIdentity = {
    kubeconfigPath,
    namespace: RELEASE_NAMESPACE,
    serviceAccount,
    username: `system:serviceaccount:${RELEASE_NAMESPACE}:${serviceAccount}`,
  };
  await waitUntilAuthorized(http, identity);
  return identity;
}

async function requestToken(
  http: KubeHttp,
  namespace: string,
  serviceAccount: string,
  expirationSeconds: number,
): Promise<string> {
  const review = await http.json<{ status: { token: string } }>(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds },
      }),
    },
  );
  return review.status.token;
}

export interface ResourceAttributes {
  group?: string;
  resource: string;
  verb: string;
  namespace?: string;
  name?: string;
}

/** Whether the API server's authorizer allows `user` (in `groups`) to act as `attributes` say. */
export async function subjectMay(
  http: KubeHttp,
  user: string,
  attributes: ResourceAttributes,
  groups?: string[],
): Promise<boolean> {
  const review = await http.json<{ status: { allowed: boolean } }>(
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, ...(groups === undefined ? {} : { groups }), resourceAttributes: attributes },
      }),
    },
  );
  return review.status.allowed;
}

/** The API server's RBAC authorizer learns new bindings from its informers: wait until it knows ours. */
async function waitUntilAuthorized(
  http: KubeHttp,
  identity: OperatorIdentity,
  timeoutMs = 10_000,
): Promise<void> {
  const probes = [
    { group: 'coffre.dev', resource: 'vaultconnections', verb: 'watch' },
    { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: identity.namespace },
  ];
  const deadline = Date.now() + timeoutMs;
  for (const attributes of probes) {
    while (!(await subjectMay(http, identity.username, attributes))) {
      if (Date.now() > deadline) {
        throw new Error(`RBAC for ${identity.username} not effective after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
