// revokeOnDelete on the real API server with the operator and oidc-provider (revocation enabled, at
// Auth0's /oauth/revoke): the finalizer is there only while opted in, deleting the connection revokes its
// token (RFC 7009, the client's authentication, the guarded fetch), a token another connection may share
// is left alone, and a dead endpoint holds the deletion 30 s at most, with a Warning Event.
import { describe, expect, it } from 'vitest';
import { REVOKE_FINALIZER } from '../../../src/api/v1alpha1/metadata-keys.ts';
import { REVOCATION_PATH } from '../../../tools/local-oauth-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getConnection, kube, remove, waitForCondition } from '../../support/kube.ts';
import {
  applyClient,
  applyTokenConnection,
  CLIENT_ID,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

async function finalizers(namespace: string, name: string): Promise<string[] | undefined> {
  return (await getConnection(namespace, name).catch(() => undefined))?.metadata.finalizers;
}

async function gone(namespace: string, name: string): Promise<boolean> {
  return (await getConnection(namespace, name).catch(() => undefined)) === undefined;
}

async function events(namespace: string, reason: string): Promise<{ type: string; message: string }[]> {
  const list = await kube().json<{ items: { type: string; reason: string; message: string }[] }>(
    `/api/v1/namespaces/${namespace}/events`,
  );
  return list.items.filter((e) => e.reason === reason);
}

describe('revokeOnDelete', () => {
  it('holds a finalizer only while opted in, and revokes the token when the connection is deleted', async () => {
    const namespace = await useTestNamespace('revoke');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    // No audience: an opaque token, which the server can revoke (a self-contained JWT it cannot).
    const opaque = { oauth2: {} };
    await applyTokenConnection(namespace, 'billing', { ...opaque, revokeOnDelete: true });
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'billing')).toEqual([REVOKE_FINALIZER]);
    // Opting out removes it, opting in again adds it; spec is never written.
    await applyTokenConnection(namespace, 'billing', { ...opaque, revokeOnDelete: false });
    await expect.poll(() => finalizers(namespace, 'billing')).toBeUndefined();
    await applyTokenConnection(namespace, 'billing', { ...opaque, revokeOnDelete: true });
    await expect.poll(() => finalizers(namespace, 'billing')).toEqual([REVOKE_FINALIZER]);
    expect((await getConnection(namespace, 'billing')).spec.revokeOnDelete).toBe(true);

    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'billing');
    await expect.poll(() => gone(namespace, 'billing'), { timeout: 15_000 }).toBe(true);
    expect(server.requests(REVOCATION_PATH)).toBe(1);
    await expect
      .poll(async () => (await events(namespace, 'TokensRevoked')).map((e) => `${e.type}: ${e.message}`))
      .toEqual(['Normal: revoked the access token']);
  });

  it('says so, and does not hold the deletion, when the server refuses to revoke a JWT', async () => {
    const namespace = await useTestNamespace('revoke-jwt');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing', { revokeOnDelete: true });
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'billing')).toEqual([REVOKE_FINALIZER]);
    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'billing');
    await expect.poll(() => gone(namespace, 'billing'), { timeout: 5_000 }).toBe(true);
    await expect
      .poll(async () => (await events(namespace, 'RevocationFailed')).map((e) => `${e.type}: ${e.message}`))
      .toEqual([
        expect.stringMatching(
          /^Warning: nothing revoked; the access token not revoked: .*unsupported_token_type/,
        ),
      ]);
  });

  it("takes the OAuthClient's default, which a connection's own setting overrides", async () => {
    const namespace = await useTestNamespace('revoke-default');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    for (const name of ['revoking', 'keeping']) {
      await applyClient(namespace, server, name);
      await apply(namespace, {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'OAuthClient',
        metadata: { name },
        spec: {
          issuer: server.issuer,
          authMethod: 'client_secret_post',
          clientId: CLIENT_ID,
          clientSecretRef: { name: `${name}-client` },
          revokeOnDelete: true,
        },
      });
    }
    await applyTokenConnection(namespace, 'by-default', {}, 'revoking');
    await applyTokenConnection(namespace, 'opted-out', { revokeOnDelete: false }, 'keeping');
    await waitForCondition(namespace, 'by-default', 'Ready', 'True');
    await waitForCondition(namespace, 'opted-out', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'by-default')).toEqual([REVOKE_FINALIZER]);
    expect(await finalizers(namespace, 'opted-out')).toBeUndefined();
  });

  it("revokes at the OAuthClient's spec.revocationEndpoint when it has no discovery", async () => {
    const namespace = await useTestNamespace('revoke-static');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    // Its Secret from the fixture; the client itself without discovery, both endpoints given.
    await applyClient(namespace, server, 'static');
    await remove(namespace, 'coffre.dev/v1alpha1', 'OAuthClient', 'static');
    await expect
      .poll(() =>
        kube()
          .json(`/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients/static`)
          .then(
            () => false,
            () => true,
          ),
      )
      .toBe(true);
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'static' },
      spec: {
        issuer: server.issuer,
        tokenEndpoint: server.tokenEndpoint,
        revocationEndpoint: server.revocationEndpoint,
        authMethod: 'client_secret_post',
        clientId: CLIENT_ID,
        clientSecretRef: { name: 'static-client' },
        revokeOnDelete: true,
      },
    });
    await applyTokenConnection(namespace, 'billing', { oauth2: {} }, 'static');
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'billing')).toEqual([REVOKE_FINALIZER]);
    const discoveries = server.requests('/.well-known/openid-configuration');
    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'billing');
    await expect.poll(() => gone(namespace, 'billing'), { timeout: 15_000 }).toBe(true);
    expect(server.requests(REVOCATION_PATH)).toBe(1);
    expect(server.requests('/.well-known/openid-configuration')).toBe(discoveries);
  });

  it('leaves a token another connection of the client may share', async () => {
    const namespace = await useTestNamespace('revoke-shared');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'one', { revokeOnDelete: true });
    await applyTokenConnection(namespace, 'two');
    await waitForCondition(namespace, 'one', 'Ready', 'True');
    await waitForCondition(namespace, 'two', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'one')).toEqual([REVOKE_FINALIZER]);
    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'one');
    await expect.poll(() => gone(namespace, 'one'), { timeout: 15_000 }).toBe(true);
    expect(server.requests(REVOCATION_PATH)).toBe(0);
    await expect
      .poll(async () => (await events(namespace, 'TokensRevoked')).map((e) => e.message))
      .toEqual(['nothing revoked; tokens kept: connection two may share them']);
    expect((await getConnection(namespace, 'two')).status?.conditions?.[0]?.status).toBe('True');
  });

  it('releases the finalizer within 30 s, with a Warning Event, when the endpoint is down', async () => {
    const namespace = await useTestNamespace('revoke-down');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing', { revokeOnDelete: true });
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    await expect.poll(() => finalizers(namespace, 'billing')).toEqual([REVOKE_FINALIZER]);
    await server.stop();
    const deletedAt = Date.now();
    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'billing');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await gone(namespace, 'billing')).toBe(false);
    await expect.poll(() => gone(namespace, 'billing'), { timeout: 45_000, interval: 500 }).toBe(true);
    const waited = Date.now() - deletedAt;
    expect(waited).toBeGreaterThanOrEqual(24_000);
    expect(waited).toBeLessThan(40_000);
    const warnings = await events(namespace, 'RevocationFailed');
    expect(warnings.map((e) => e.type)).toEqual(['Warning']);
    expect(warnings[0]?.message).toMatch(
      /^tokens not revoked within 30s of the deletion, finalizer released: /,
    );
  }, 60_000);
});
