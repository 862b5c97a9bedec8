// Small helpers for integration tests: apply manifests, read coffre objects, wait for conditions.
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { createKubeHttp } from '../../src/controller/kube-http.ts';
import type { VaultConnection } from '../../src/api/v1alpha1/resources.ts';
import { clusterKubeConfig } from './cluster.ts';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

const plurals: Record<string, string> = {
  VaultConnection: 'vaultconnections',
  OAuthClient: 'oauthclients',
  Secret: 'secrets',
  Deployment: 'deployments',
};

function path(apiVersion: string, kind: string, namespace: string, name?: string): string {
  const plural = plurals[kind];
  if (plural === undefined) throw new Error(`no plural known for ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}/namespaces/${namespace}/${plural}${name === undefined ? '' : `/${name}`}`;
}

export function kube() {
  return createKubeHttp(clusterKubeConfig());
}

/** Server-side applies an object into the namespace (create or update). */
export async function apply(namespace: string, object: Manifest): Promise<Manifest> {
  return kube().json<Manifest>(path(object.apiVersion, object.kind, namespace, object.metadata.name), {
    method: 'PATCH',
    query: { fieldManager: 'coffre-tests', force: true },
    contentType: 'application/apply-patch+yaml',
    body: JSON.stringify({ ...object, metadata: { ...object.metadata, namespace } }),
  });
}

export async function remove(
  namespace: string,
  apiVersion: string,
  kind: string,
  name: string,
): Promise<void> {
  await kube().json(path(apiVersion, kind, namespace, name), {
    method: 'DELETE',
    contentType: 'application/json',
    body: JSON.stringify({ propagationPolicy: 'Background' }),
  });
}

export async function getConnection(namespace: string, name: string): Promise<VaultConnection> {
  return kube().json<VaultConnection>(path('coffre.dev/v1alpha1', 'VaultConnection', namespace, name));
}

export async function getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
  return clusterKubeConfig()
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace, name })
    .catch(() => undefined);
}

export function secretText(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

export function condition(connection: VaultConnection, type: string) {
  return connection.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the connection's condition has the status (and reason, when given). */
export async function waitForCondition(
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeout = 30_000,
): Promise<VaultConnection> {
  let last: VaultConnection | undefined;
  await expect
    .poll(
      async () => {
        last = await getConnection(namespace, name);
        const found = condition(last, type);
        return `${found?.status ?? '-'}/${reason === undefined ? '*' : (found?.reason ?? '-')}`;
      },
      { timeout, interval: 100 },
    )
    .toBe(`${status}/${reason ?? '*'}`);
  if (last === undefined) throw new Error('unreachable');
  return last;
}
