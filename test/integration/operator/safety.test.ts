// Safety properties end to end: the SSRF guard, secret hygiene (a planted canary never reaches logs,
// Events, status or metrics), a quiet restart, refresh-token rotation and re-authorisation.
import { describe, expect, it } from 'vitest';
import type { LocalOAuthServer } from '../../../tools/local-oauth-server.ts';
import { generateClientKey, TOKEN_PATH } from '../../../tools/local-oauth-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import {
  apply,
  condition,
  getConnection,
  getSecret,
  kube,
  remove,
  secretText,
  waitForCondition,
} from '../../support/kube.ts';
import {
  AUDIENCE,
  SCOPES,
  applyClient,
  applyTokenConnection,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

async function everythingVisible(namespace: string): Promise<string> {
  const http = kube();
  const [events, connections, clients] = await Promise.all([
    http.json(`/api/v1/namespaces/${namespace}/events`),
    http.json(`/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections`),
    http.json(`/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients`),
  ]);
  return JSON.stringify({ events, connections, clients });
}

describe('SSRF guard', () => {
  it('refuses a token endpoint on a cloud metadata address, naming the reason', async () => {
    const namespace = await useTestNamespace('ssrf');
    await startTestOperator({ namespace, allowedCIDRs: [] });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'm' },
      stringData: { clientSecret: 's' },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'metadata' },
      spec: {
        issuer: 'https://169.254.169.254/',
        tokenEndpoint: 'https://169.254.169.254/latest/meta-data/token',
        clientId: 'x',
        clientSecretRef: { name: 'm' },
      },
    });
    await applyTokenConnection(namespace, 'imds', {}, 'metadata');
    const connection = await waitForCondition(namespace, 'imds', 'Ready', 'False', 'EndpointRefused');
    expect(condition(connection, 'Ready')?.message).toMatch(/169\.254\.169\.254/);
    expect(condition(connection, 'Ready')?.message).toMatch(/metadata|link-local/);
  });

  it('refuses a loopback token endpoint unless its range is allowlisted', async () => {
    const namespace = await useTestNamespace('loopback');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    const refusing = await startTestOperator({ namespace, caPem: server.caPem, allowedCIDRs: [] });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'local');
    const refused = await waitForCondition(namespace, 'local', 'Ready', 'False', 'EndpointRefused');
    expect(condition(refused, 'Ready')?.message).toMatch(/loopback/);
    expect(server.tokenRequests()).toBe(0);
    await refusing.stop();
    await startTestOperator({ namespace, caPem: server.caPem, allowedCIDRs: ['127.0.0.1/32'] });
    await waitForCondition(namespace, 'local', 'Ready', 'True', 'TokenValid');
  });
});

describe('secret hygiene', () => {
  it(
    'never lets a canary secret or a minted token reach logs, Events, status or metrics',
    { timeout: 60_000 },
    async () => {
      const namespace = await useTestNamespace('canary');
      const canaryClientSecret = 'CANARY-client-secret-9f2e71';
      const canaryApiKey = 'CANARY-api-key-4c1d08';
      const server = await startOAuthServer({
        accessTokenTtlSeconds: 2,
        clients: [{ clientId: 'm2m', authMethod: 'client_secret_post', clientSecret: canaryClientSecret }],
      });
      const operator = await startTestOperator({ namespace, caPem: server.caPem });
      // Success paths: a token connection and a static one.
      await applyClient(namespace, server, 'local', canaryClientSecret);
      await applyTokenConnection(namespace, 'ok');
      await apply(namespace, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'key' },
        stringData: { apiKey: canaryApiKey },
      });
      await apply(namespace, {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: 'static' },
        spec: {
          type: 'apiKey',
          credentialsRef: { name: 'key' },
          target: { template: { data: { header: 'X {{ .nope }}' } } },
        },
      });
      await waitForCondition(namespace, 'ok', 'Ready', 'True');
      await waitForCondition(namespace, 'static', 'Ready', 'False', 'TemplateError');
      // Failure paths: a wrong secret (invalid_client), an outage.
      await applyClient(namespace, server, 'wrong', `${canaryClientSecret}-wrong`);
      await applyTokenConnection(namespace, 'bad', {}, 'wrong');
      await waitForCondition(namespace, 'bad', 'Ready', 'False', 'InvalidClient');
      await server.unavailable();
      await waitForCondition(namespace, 'ok', 'Expired', 'True', 'EndpointUnreachable', 20_000);
      const tokens = [secretText(await getSecret(namespace, 'ok-token'), 'access_token') ?? 'none'];

      const surfaces = {
        logs: operator.logs(),
        metrics: await operator.metricsText(),
        api: await everythingVisible(namespace),
      };
      for (const [surface, text] of Object.entries(surfaces)) {
        expect(text.length, surface).toBeGreaterThan(100);
        expect(text, surface).not.toContain('CANARY');
        for (const token of tokens) expect(text, surface).not.toContain(token);
      }
    },
  );
});

describe('quiet restart', () => {
  it(
    'a restarted operator mints no token and writes nothing while tokens are valid',
    { timeout: 60_000 },
    async () => {
      const namespace = await useTestNamespace('restart');
      const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
      const first = await startTestOperator({ namespace, caPem: server.caPem });
      await applyClient(namespace, server);
      for (let i = 0; i < 5; i++)
        await applyTokenConnection(namespace, `c-${i}`, {
          oauth2: { audience: AUDIENCE, scopes: [SCOPES[i % 2] ?? 'read:users'] },
        });
      for (let i = 0; i < 5; i++) await waitForCondition(namespace, `c-${i}`, 'Ready', 'True');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await first.stop();
      const requestsBefore = server.tokenRequests();
      const versionsBefore = await resourceVersions(namespace);

      const second = await startTestOperator({ namespace, caPem: server.caPem });
      await expect
        .poll(
          async () => (await second.metrics.reconciles.get()).values.reduce((sum, v) => sum + v.value, 0),
          { timeout: 10_000 },
        )
        .toBeGreaterThanOrEqual(6);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(server.tokenRequests()).toBe(requestsBefore);
      const writes = (await second.metrics.apiWrites.get()).values.filter(
        (v) => v.labels.resource !== 'events',
      );
      expect(writes.reduce((sum, v) => sum + v.value, 0)).toBe(0);
      expect(await resourceVersions(namespace)).toEqual(versionsBefore);
    },
  );
});

async function resourceVersions(namespace: string): Promise<Record<string, string>> {
  const http = kube();
  const versions: Record<string, string> = {};
  for (const path of [
    `/api/v1/namespaces/${namespace}/secrets`,
    `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections`,
    `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients`,
  ]) {
    const list = await http.json<{
      items: { kind?: string; metadata: { name: string; resourceVersion: string } }[];
    }>(path);
    for (const item of list.items) versions[`${path}/${item.metadata.name}`] = item.metadata.resourceVersion;
  }
  return versions;
}

describe('refresh-token rotation', () => {
  async function setup(namespace: string, server: LocalOAuthServer, privateKeyPem: string) {
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'client-key' },
      stringData: { privateKey: privateKeyPem, keyId: 'k1' },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'calendar' },
      spec: {
        issuer: server.issuer,
        authMethod: 'private_key_jwt',
        clientId: 'pkjwt',
        privateKeyRef: { name: 'client-key' },
      },
    });
  }

  /** A private_key_jwt client, an operator, and a connection Ready on a user's refresh token. */
  async function readyRefreshConnection(prefix: string, accessTokenTtlSeconds: number) {
    const namespace = await useTestNamespace(prefix);
    const key = await generateClientKey('k1');
    const server = await startOAuthServer({
      accessTokenTtlSeconds,
      clients: [{ clientId: 'pkjwt', authMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }],
    });
    const operator = await startTestOperator({ namespace, caPem: server.caPem });
    await setup(namespace, server, key.privateKeyPem);
    const initial = await server.issueRefreshToken('pkjwt', {
      resource: AUDIENCE,
      scope: 'offline_access read:users',
    });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'user' },
      stringData: { refreshToken: initial },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'calendar-user' },
      spec: {
        type: 'oauth2',
        oauthClientRef: { name: 'calendar' },
        credentialsRef: { name: 'user' },
        oauth2: { grant: 'refresh_token', resource: [AUDIENCE] },
      },
    });
    await waitForCondition(namespace, 'calendar-user', 'Ready', 'True', 'TokenValid');
    return { namespace, server, operator, initial };
  }

  it(
    'persists each rotated refresh token before use, and asks for re-authorisation when one is refused',
    { timeout: 60_000 },
    async () => {
      const { namespace, server, operator: first, initial } = await readyRefreshConnection('rotation', 2);
      const state = async () =>
        secretText(await getSecret(namespace, 'calendar-user-coffre-state'), 'refresh_token');
      const firstRotation = await state();
      expect(firstRotation).toBeDefined();
      expect(firstRotation).not.toBe(initial);
      expect(await server.isActive(initial)).toBe(false);
      // The next renewal (2-second tokens) rotates again, from the persisted token.
      await expect.poll(state, { timeout: 10_000 }).not.toBe(firstRotation);
      // What coffre persisted is the refresh token the server currently honours (read both together:
      // a renewal may rotate it between two reads).
      await expect.poll(async () => server.isActive((await state()) ?? ''), { timeout: 5_000 }).toBe(true);

      // coffre's state is lost (say, a namespace restored from an old backup) and the operator restarts:
      // the seed refresh token was used long ago, so the server refuses it. coffre asks for a new
      // authorisation, without a retry loop. (A running operator still remembers the rotation.)
      await first.stop();
      await remove(namespace, 'v1', 'Secret', 'calendar-user-coffre-state');
      await startTestOperator({ namespace, caPem: server.caPem });
      const refused = await waitForCondition(
        namespace,
        'calendar-user',
        'Ready',
        'False',
        'ReauthorizationRequired',
        15_000,
      );
      expect(condition(refused, 'Ready')?.message).toBeTruthy();
      const requests = server.tokenRequests('refresh_token');
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(server.tokenRequests('refresh_token')).toBe(requests);
      expect(condition(await getConnection(namespace, 'calendar-user'), 'Expired')?.status).toBe('True');

      // A new authorisation (a new refresh token in the credentials Secret) brings it back at once.
      const fresh = await server.issueRefreshToken('pkjwt', {
        resource: AUDIENCE,
        scope: 'offline_access read:users',
      });
      await apply(namespace, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'user' },
        stringData: { refreshToken: fresh },
      });
      await waitForCondition(namespace, 'calendar-user', 'Ready', 'True', 'TokenValid', 15_000);
    },
  );
  it(
    'a graceful stop waits for a refresh on the wire and writes the refresh token it rotated',
    { timeout: 60_000 },
    async () => {
      // Token requests run outside the reconcile workers: draining the work queue alone would let the
      // process go with a rotation in the air, and the next one would send a refresh token the server
      // has already replaced (ReauthorizationRequired after every rolling update).
      const { namespace, server, operator } = await readyRefreshConnection('drain', 4);
      // The next renewal (4-second tokens) waits 2.5 s at the server before it is handled.
      server.tweaks.tokenLatencyMs = 2500;
      const answered = () => server.tokenLog().filter((e) => e.grantType === 'refresh_token').length;
      const answeredBefore = answered();
      const received = server.requests(TOKEN_PATH);
      await expect
        .poll(() => server.requests(TOKEN_PATH), { timeout: 10_000, interval: 50 })
        .toBeGreaterThan(received);
      expect(answered()).toBe(answeredBefore);

      // The manager's stop (what the process awaits before it exits on SIGTERM), not the operator's:
      // closing the engine afterwards would wait for the request anyway, but not for its write.
      await operator.operator.manager.stop();
      // The stop returned only after the answer, and after the rotated token was written.
      expect(answered()).toBe(answeredBefore + 1);
      const persisted = secretText(await getSecret(namespace, 'calendar-user-coffre-state'), 'refresh_token');
      expect(await server.isActive(persisted ?? '')).toBe(true);
      expect(server.tokenErrors().invalid_grant ?? 0).toBe(0);
    },
  );
});
