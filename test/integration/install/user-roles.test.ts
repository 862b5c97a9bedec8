// People's roles from the chart on the real API server: coffre-view, -edit and -admin, aggregated by
// kube-controller-manager into the built-in view, edit and admin ClusterRoles. Viewing a connection never
// requires reading its Secret. Users are client-certificate users bound in a test namespace.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKubeHttp, type KubeHttp } from '../../../src/controller/kube-http.ts';
import { loadKubeConfig } from '../../../tools/controlplane/controlplane.ts';
import { renderChart } from '../../support/chart.ts';
import { clusterKubeConfig, helmPath, useTestNamespace, userKubeconfigPath } from '../../support/cluster.ts';
import { apply, kube } from '../../support/kube.ts';
import { createApplier } from '../../support/server-side-apply.ts';
import { waitUntil } from '../../support/wait.ts';

const CONNECTIONS = (namespace: string) =>
  `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections`;
const CLIENTS = (namespace: string) => `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients`;
const SECRETS = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

/** A namespace with a connection, an OAuthClient and the connection's Secret; a user bound there to `role`. */
async function userBoundTo(
  kind: 'ClusterRole',
  role: string,
): Promise<{ namespace: string; http: KubeHttp }> {
  const namespace = await useTestNamespace('people');
  await apply(namespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'maps-credentials' },
    stringData: { api_key: 'FAKE-api-key-not-real' },
  });
  await apply(namespace, {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { name: 'maps' },
    spec: { type: 'apiKey', credentialsRef: { name: 'maps-credentials' } },
  });
  await apply(namespace, {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'OAuthClient',
    metadata: { name: 'acme-m2m' },
    spec: {
      issuer: 'https://acme.example.com/',
      authMethod: 'client_secret_post',
      clientId: 'acme',
      clientSecretRef: { name: 'acme-m2m', key: 'clientSecret' },
    },
  });
  const user = `${role}-user-${randomBytes(3).toString('hex')}`;
  await createKubeHttp(clusterKubeConfig()).json(
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${role}-binding` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      }),
    },
  );
  const http = createKubeHttp(
    loadKubeConfig({ kubeconfigPath: await userKubeconfigPath(user, ['platform']) }),
  );
  // The authorizer learns the binding from its informers: wait until the user can list connections.
  await expect
    .poll(async () => (await http.send(CONNECTIONS(namespace))).status, { timeout: 10_000 })
    .toBe(200);
  return { namespace, http };
}

async function status(http: KubeHttp, path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) {
  const response = await http.send(path, {
    method,
    ...(body === undefined ? {} : { contentType: 'application/json', body: JSON.stringify(body) }),
  });
  await response.body?.cancel();
  return response.status;
}

const newConnection = (name: string) => ({
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'VaultConnection',
  metadata: { name },
  spec: { type: 'bearerToken' },
});

beforeAll(async () => {
  // The chart's user roles, applied as the chart would; then wait until the aggregation controller has
  // copied their rules into the built-in roles.
  const applier = createApplier(kube());
  const objects = await renderChart(helmPath());
  for (const name of ['coffre-view', 'coffre-edit', 'coffre-admin']) {
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name);
    if (role === undefined) throw new Error(`the chart renders no ClusterRole ${name}`);
    const outcome = await applier.apply(role, { fieldManager: 'coffre-tests-install', force: true });
    if (outcome.status >= 300) throw new Error(`cannot apply ClusterRole ${name}: ${outcome.message}`);
  }
  const aggregated = async (builtIn: string, verb: string) => {
    const role = await kube().json<{ rules?: Rule[] }>(
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/${builtIn}`,
    );
    return (role.rules ?? []).some(
      (r) =>
        (r.apiGroups ?? []).includes('coffre.dev') &&
        (r.resources ?? []).includes('vaultconnections') &&
        r.verbs.includes(verb),
    );
  };
  await waitUntil(
    'the aggregation of coffre-view/edit/admin into view/edit/admin',
    async () =>
      (await aggregated('view', 'list')) &&
      (await aggregated('edit', 'create')) &&
      (await aggregated('admin', '*')),
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}, 60_000);

describe("people's roles", () => {
  it('view: lists VaultConnections and OAuthClients, and is refused their Secrets (403)', async () => {
    const { namespace, http } = await userBoundTo('ClusterRole', 'view');
    const list = await http.json<{ items: { metadata: { name: string } }[] }>(CONNECTIONS(namespace));
    expect(list.items.map((i) => i.metadata.name)).toEqual(['maps']);
    expect(await status(http, `${CONNECTIONS(namespace)}/maps/status`)).toBe(200);
    expect(await status(http, CLIENTS(namespace))).toBe(200);
    expect(await status(http, `${SECRETS(namespace)}/maps-credentials`)).toBe(403);
    expect(await status(http, SECRETS(namespace))).toBe(403);
    expect(await status(http, CONNECTIONS(namespace), 'POST', newConnection('mine'))).toBe(403);
  });

  it('edit: creates connections', async () => {
    const { namespace, http } = await userBoundTo('ClusterRole', 'edit');
    expect(await status(http, CONNECTIONS(namespace), 'POST', newConnection('mine'))).toBe(201);
    expect(await status(http, CLIENTS(namespace))).toBe(200);
  });

  it('coffre-view, bound directly: lists connections and clients, and is refused Secrets (403)', async () => {
    const { namespace, http } = await userBoundTo('ClusterRole', 'coffre-view');
    expect(await status(http, CONNECTIONS(namespace))).toBe(200);
    expect(await status(http, CLIENTS(namespace))).toBe(200);
    expect(await status(http, `${SECRETS(namespace)}/maps-credentials`)).toBe(403);
    expect(await status(http, SECRETS(namespace))).toBe(403);
    expect(await status(http, CONNECTIONS(namespace), 'POST', newConnection('mine'))).toBe(403);
  });

  it('coffre-edit, bound directly: declares connections without any access to Secrets', async () => {
    const { namespace, http } = await userBoundTo('ClusterRole', 'coffre-edit');
    expect(await status(http, CONNECTIONS(namespace), 'POST', newConnection('mine'))).toBe(201);
    expect(await status(http, `${SECRETS(namespace)}/maps-credentials`)).toBe(403);
    const patch = await http.send(`${CONNECTIONS(namespace)}/maps/status`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ status: { observedGeneration: 99 } }),
    });
    expect(patch.status).toBe(403);
  });

  it('binds only in its namespace: a viewer of one namespace lists nothing in another', async () => {
    const { http } = await userBoundTo('ClusterRole', 'view');
    const other = await useTestNamespace('people-other');
    expect(await status(http, CONNECTIONS(other))).toBe(403);
  });
});
