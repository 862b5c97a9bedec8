// Token connections end to end: the operator against the real API server and a real OAuth server
// (oidc-provider on 127.0.0.1, JWT access tokens living 2 seconds).
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  EXPIRES_AT_ANNOTATION,
  FORCE_REFRESH_ANNOTATION,
  ISSUED_AT_ANNOTATION,
} from '../../../src/api/v1alpha1/metadata-keys.ts';
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
  CLIENT_ID,
  SCOPES,
  applyClient,
  applyTokenConnection,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

/** Polls `probe` until it returns a value (10 s at most). */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('token connections', () => {
  it('mints a token into the target Secret and reports Ready with its expiry', async () => {
    const namespace = await useTestNamespace('token');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    const connection = await waitForCondition(namespace, 'billing', 'Ready', 'True', 'TokenValid');
    expect(condition(connection, 'Expired')).toMatchObject({ status: 'False', reason: 'TokenValid' });
    expect(condition(connection, 'Empty')).toMatchObject({ status: 'False', reason: 'CredentialsPresent' });
    const status = connection.status ?? {};
    expect(status.secretName).toBe('billing-token');
    expect(status.grantedScopes).toEqual(SCOPES);
    const expiresAt = Date.parse(status.expiresAt ?? '');
    const issuedAt = Date.parse(status.lastRefreshTime ?? '');
    const nextRefresh = Date.parse(status.nextRefreshTime ?? '');
    expect(expiresAt - issuedAt).toBeGreaterThan(55_000);
    // Renewal a third of the lifetime before expiry, jitter making it at most a tenth of that earlier.
    expect(expiresAt - nextRefresh).toBeGreaterThanOrEqual(19_000);
    expect(expiresAt - nextRefresh).toBeLessThanOrEqual(23_000);

    const secret = await getSecret(namespace, 'billing-token');
    const claims = decodeJwt(secretText(secret, 'access_token') ?? '');
    expect(claims.client_id ?? claims.sub).toBe(CLIENT_ID);
    expect(claims.aud).toBe(AUDIENCE);
    expect(secretText(secret, 'token_type')).toBe('Bearer');
    expect(secretText(secret, 'scope')).toBe(SCOPES.join(' '));
    expect(Date.parse(secretText(secret, 'expires_at') ?? '')).toBe(expiresAt);
    // The annotations keep milliseconds (the schedule is recomputed from them); status keeps seconds.
    const wholeSeconds = (iso: string | undefined) => Math.floor(Date.parse(iso ?? '') / 1000) * 1000;
    expect(wholeSeconds(secret?.metadata?.annotations?.[EXPIRES_AT_ANNOTATION])).toBe(expiresAt);
    expect(wholeSeconds(secret?.metadata?.annotations?.[ISSUED_AT_ANNOTATION])).toBe(issuedAt);
  });

  it('renders the target template without code execution', async () => {
    const namespace = await useTestNamespace('template');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'headers', {
      target: { name: 'api-headers', template: { data: { Authorization: 'Bearer {{ .access_token }}' } } },
    });
    await waitForCondition(namespace, 'headers', 'Ready', 'True');
    const secret = await getSecret(namespace, 'api-headers');
    expect(Object.keys(secret?.data ?? {})).toEqual(['Authorization']);
    expect(secretText(secret, 'Authorization')).toMatch(/^Bearer ey/);
  });

  it(
    'keeps a valid token in the Secret at every moment while 2-second tokens are renewed',
    { timeout: 150_000 },
    async () => {
      const namespace = await useTestNamespace('renew');
      const server = await startOAuthServer({ accessTokenTtlSeconds: 2 });
      await startTestOperator({ namespace, caPem: server.caPem });
      await applyClient(namespace, server);
      await applyTokenConnection(namespace, 'fast');
      await waitForCondition(namespace, 'fast', 'Ready', 'True');
      const runMs = Number(process.env.COFFRE_RENEW_TEST_MS ?? 120_000);
      const started = Date.now();
      let samples = 0;
      let expiredMoments = 0;
      let smallestLeadMs = Number.POSITIVE_INFINITY;
      const tokens = new Set<string>();
      while (Date.now() - started < runMs) {
        const secret = await getSecret(namespace, 'fast-token');
        const now = Date.now();
        const token = secretText(secret, 'access_token') ?? '';
        const exp = (decodeJwt(token).exp ?? 0) * 1000;
        tokens.add(token);
        samples++;
        smallestLeadMs = Math.min(smallestLeadMs, exp - now);
        if (exp <= now) expiredMoments++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      console.log(
        `renewal run: ${runMs / 1000} s, ${samples} samples, ${tokens.size} tokens, ${server.tokenRequests()} token requests, smallest lead ${smallestLeadMs} ms, expired moments ${expiredMoments}`,
      );
      expect(expiredMoments).toBe(0);
      expect(tokens.size).toBeGreaterThanOrEqual(Math.floor(runMs / 2000) - 1);
      const connection = await getConnection(namespace, 'fast');
      expect(condition(connection, 'Ready')?.status).toBe('True');
    },
  );

  it(
    'reports Expired when the server is down past expiry, and Ready again when it returns',
    { timeout: 60_000 },
    async () => {
      const namespace = await useTestNamespace('outage');
      const server = await startOAuthServer({ accessTokenTtlSeconds: 3 });
      await startTestOperator({ namespace, caPem: server.caPem });
      await applyClient(namespace, server);
      await applyTokenConnection(namespace, 'flaky');
      await waitForCondition(namespace, 'flaky', 'Ready', 'True');
      await server.unavailable();
      const expired = await waitForCondition(
        namespace,
        'flaky',
        'Expired',
        'True',
        'EndpointUnreachable',
        20_000,
      );
      expect(condition(expired, 'Ready')).toMatchObject({ status: 'False', reason: 'EndpointUnreachable' });
      expect(condition(expired, 'Expired')?.message).toContain('expired at');
      await server.available();
      await waitForCondition(namespace, 'flaky', 'Ready', 'True', 'TokenValid', 40_000);
      const recovered = await getConnection(namespace, 'flaky');
      expect(condition(recovered, 'Expired')?.status).toBe('False');

      // One Event per transition that is news: a connection Ready at once raises none (its status
      // says it; Empty=False and Expired=False are the normal state); the outage and the recovery
      // say what changed.
      const transitions = await eventually(async () => {
        const list = await kube().json<{
          items: {
            type: string;
            reason: string;
            message: string;
            involvedObject: { name: string };
            metadata: { resourceVersion: string };
          }[];
        }>(`/api/v1/namespaces/${namespace}/events`);
        // In the order the API server stored them (etcd revisions), not by name.
        const said = list.items
          .filter((e) => e.involvedObject.name === 'flaky')
          .sort((a, b) => Number(BigInt(a.metadata.resourceVersion) - BigInt(b.metadata.resourceVersion)))
          .map((e) => `${e.type} ${e.message.split(':')[0] ?? ''}/${e.reason}`);
        return said.includes('Normal Expired=False/TokenValid') ? said : undefined;
      });
      // The outage first fails a renewal while the token is valid (Ready stays True), then expires it.
      expect(transitions[0]).toBe('Warning Ready=True/RenewalFailing');
      expect(transitions.some((t) => /^Warning Ready=False\//.test(t))).toBe(true);
      expect(transitions.filter((t) => t === 'Normal Ready=True/TokenValid')).toHaveLength(1);
      expect(transitions).toContain('Warning Expired=True/EndpointUnreachable');
      expect(transitions.filter((t) => t.includes('Empty='))).toEqual([]);
      expect(transitions.indexOf('Normal Expired=False/TokenValid')).toBeGreaterThan(
        transitions.indexOf('Warning Expired=True/EndpointUnreachable'),
      );
    },
  );

  it(
    'makes 50 connections sharing one client and audience cost one token request per lifetime',
    { timeout: 60_000 },
    async () => {
      const namespace = await useTestNamespace('shared');
      const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
      await startTestOperator({ namespace, caPem: server.caPem });
      await applyClient(namespace, server);
      await Promise.all(Array.from({ length: 50 }, (_, i) => applyTokenConnection(namespace, `shared-${i}`)));
      for (let i = 0; i < 50; i++) await waitForCondition(namespace, `shared-${i}`, 'Ready', 'True');
      expect(server.tokenRequests('client_credentials')).toBe(1);
      const tokens = new Set(
        await Promise.all(
          Array.from({ length: 50 }, async (_, i) =>
            secretText(await getSecret(namespace, `shared-${i}-token`), 'access_token'),
          ),
        ),
      );
      expect(tokens.size).toBe(1);
    },
  );

  it('mints a new token at once when forced by annotation', async () => {
    const namespace = await useTestNamespace('force');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'forced');
    await waitForCondition(namespace, 'forced', 'Ready', 'True');
    const before = secretText(await getSecret(namespace, 'forced-token'), 'access_token');
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'forced', annotations: { [FORCE_REFRESH_ANNOTATION]: '1' } },
      spec: {
        type: 'oauth2',
        oauthClientRef: { name: 'local' },
        oauth2: { audience: AUDIENCE, scopes: SCOPES },
      },
    });
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'forced-token'), 'access_token'), {
        timeout: 15_000,
      })
      .not.toBe(before);
    expect(server.tokenRequests('client_credentials')).toBe(2);
  });

  it('re-mints every connection of an OAuthClient when its secret changes', async () => {
    const namespace = await useTestNamespace('rotate');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'one');
    await applyTokenConnection(namespace, 'two', { oauth2: { audience: AUDIENCE, scopes: ['read:users'] } });
    await waitForCondition(namespace, 'one', 'Ready', 'True');
    await waitForCondition(namespace, 'two', 'Ready', 'True');
    const before = server.tokenRequests('client_credentials');
    // The same secret value re-applied changes nothing; a new value must re-mint both.
    await applyClient(namespace, server, 'local', 'wrong-secret');
    await waitForCondition(namespace, 'one', 'Ready', 'False', 'InvalidClient', 15_000);
    await waitForCondition(namespace, 'two', 'Ready', 'False', 'InvalidClient', 15_000);
    expect(server.tokenRequests('client_credentials')).toBe(before + 2);
    await applyClient(namespace, server);
    await waitForCondition(namespace, 'one', 'Ready', 'True', 'TokenValid', 15_000);
    await waitForCondition(namespace, 'two', 'Ready', 'True', 'TokenValid', 15_000);
  });

  it('restarts a rollout target when the request changes, not when the token is renewed', async () => {
    const namespace = await useTestNamespace('rollout');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await apply(namespace, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'restarts', {
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
    });
    await waitForCondition(namespace, 'restarts', 'Ready', 'True');
    const restartedFor = async () => {
      const deployment = await import('../../support/kube.ts').then((k) =>
        k
          .kube()
          .json<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(
            `/apis/apps/v1/namespaces/${namespace}/deployments/api`,
          ),
      );
      return deployment.spec.template.metadata.annotations?.['coffre.dev/restarted-for'];
    };
    // The first publication restarts nothing: the workload starts with the Secret.
    expect(await restartedFor()).toBeUndefined();
    const spec = {
      type: 'oauth2',
      oauthClientRef: { name: 'local' },
      oauth2: { audience: AUDIENCE, scopes: SCOPES },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
    };
    // A new token for the same request (a force-refresh, as a renewal) restarts nothing by default.
    const before = secretText(await getSecret(namespace, 'restarts-token'), 'access_token');
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'restarts', annotations: { [FORCE_REFRESH_ANNOTATION]: 'now' } },
      spec,
    });
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'restarts-token'), 'access_token'), {
        timeout: 15_000,
      })
      .not.toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await restartedFor()).toBeUndefined();
    // A change of the spec (here the scopes) is a new request: the workload restarts.
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'restarts', annotations: { [FORCE_REFRESH_ANNOTATION]: 'now' } },
      spec: { ...spec, oauth2: { audience: AUDIENCE, scopes: ['read:users'] } },
    });
    await expect.poll(restartedFor, { timeout: 15_000 }).toMatch(/^[0-9a-f]{16}$/);
    // Viewers can read pod templates: the value is keyed, never a prefix of the data's hash.
    const published = await getSecret(namespace, 'restarts-token');
    expect(published?.metadata?.annotations?.['coffre.dev/data-hash']?.slice(0, 16)).not.toBe(
      await restartedFor(),
    );
    await remove(namespace, 'apps/v1', 'Deployment', 'api');
  });
});
