// Fixtures for end-to-end tests with a real OAuth server: a local oidc-provider with an M2M client,
// resource servers for Auth0-style audiences, and the coffre objects that use them.
import { afterEach } from 'vitest';
import {
  startLocalOAuthServer,
  type LocalOAuthServer,
  type LocalOAuthServerOptions,
} from '../../tools/local-oauth-server.ts';
import { apply } from './kube.ts';

export const CLIENT_ID = 'm2m';
export const CLIENT_SECRET = 'local-m2m-secret-0123456789';
export const AUDIENCE = 'https://api.local.test/';
export const SCOPES = ['read:users', 'update:users'];

const servers = new Set<LocalOAuthServer>();
let cleanup = false;

export async function startOAuthServer(
  options: Partial<LocalOAuthServerOptions> = {},
): Promise<LocalOAuthServer> {
  if (!cleanup) {
    cleanup = true;
    afterEach(async () => {
      await Promise.all([...servers].map((s) => s.stop()));
      servers.clear();
    });
  }
  const server = await startLocalOAuthServer({
    clients: [{ clientId: CLIENT_ID, authMethod: 'client_secret_post', clientSecret: CLIENT_SECRET }],
    resourceServers: { [AUDIENCE]: { scope: 'read:users update:users delete:users' } },
    accessTokenTtlSeconds: 2,
    ...options,
  });
  servers.add(server);
  return server;
}

/** An OAuthClient (and its Secret) for the local server's M2M client. */
export async function applyClient(
  namespace: string,
  server: LocalOAuthServer,
  name = 'local',
  secret = CLIENT_SECRET,
): Promise<void> {
  await apply(namespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-client` },
    stringData: { clientSecret: secret },
  });
  await apply(namespace, {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'OAuthClient',
    metadata: { name },
    spec: {
      issuer: server.issuer,
      authMethod: 'client_secret_post',
      clientId: CLIENT_ID,
      clientSecretRef: { name: `${name}-client` },
    },
  });
}

/** An oauth2 client-credentials connection on the OAuthClient. */
export async function applyTokenConnection(
  namespace: string,
  name: string,
  extra: Record<string, unknown> = {},
  client = 'local',
): Promise<void> {
  await apply(namespace, {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { name },
    spec: {
      type: 'oauth2',
      oauthClientRef: { name: client },
      oauth2: { audience: AUDIENCE, scopes: SCOPES },
      ...extra,
    },
  });
}
