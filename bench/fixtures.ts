// The objects the bench declares: an OAuthClient (and its Secret) for the local OAuth server,
// client-credentials connections on it, static apiKey connections, and unrelated Secrets.
import { CLIENT_ID, CLIENT_SECRET, SCOPE } from './oauth.ts';
import { paths, type BenchKube } from './kube.ts';

export const CLIENT_NAME = 'bench';

export async function createOAuthClient(kube: BenchKube, namespace: string, issuer: string): Promise<void> {
  await kube.create(paths.secrets(namespace), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${CLIENT_NAME}-client` },
    stringData: { clientSecret: CLIENT_SECRET },
  });
  await kube.create(paths.oauthClients(namespace), {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'OAuthClient',
    metadata: { name: CLIENT_NAME },
    spec: {
      issuer,
      authMethod: 'client_secret_post',
      clientId: CLIENT_ID,
      clientSecretRef: { name: `${CLIENT_NAME}-client`, key: 'clientSecret' },
    },
  });
}

export function connectionName(index: number): string {
  return `vc-${String(index).padStart(5, '0')}`;
}

/** An oauth2 client-credentials connection on the bench OAuthClient. */
export function tokenConnection(name: string, audience: string): object {
  return {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { name },
    spec: {
      type: 'oauth2',
      oauthClientRef: { name: CLIENT_NAME },
      oauth2: { audience, scopes: [SCOPE] },
    },
  };
}

export const API_KEY_SECRET = 'bench-api-key';

export function apiKeySecret(name = API_KEY_SECRET): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData: { apiKey: `key-${name}-0123456789abcdef0123456789abcdef` },
  };
}

/** A static apiKey connection reading the given credentials Secret. */
export function apiKeyConnection(name: string, credentialsSecret: string): object {
  return {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { name },
    spec: { type: 'apiKey', credentialsRef: { name: credentialsSecret } },
  };
}

/** A Secret coffre has nothing to do with, with ~1 KiB of data like a small TLS or config Secret. */
export function unrelatedSecret(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels: { app: 'unrelated' } },
    data: { 'config.json': Buffer.from('x'.repeat(768)).toString('base64') },
  };
}

/**
 * A tenant's Secret dressed up as coffre's: the managed-by label coffre's own Secrets carry and the
 * connection label, and `bytes` of data. (No owner reference: one to a uid that does not exist would
 * have the garbage collector delete it.) coffre must keep none of that data in memory.
 */
export function impostorSecret(name: string, bytes: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'coffre', 'coffre.dev/connection': name },
    },
    data: { blob: Buffer.alloc(bytes, 0x61).toString('base64') },
  };
}
