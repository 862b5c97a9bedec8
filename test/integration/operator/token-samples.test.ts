// Each token connection type reaches Ready from its sample, pointed at a local server shaped like its
// provider: Auth0 (oidc-provider with Auth0's /oauth/token and the tenant's Management API audience),
// any OAuth 2.0 server through an OAuthClient, Slack with rotating tokens, Shopify client credentials,
// Shopify expiring offline tokens, Zendesk OAuth clients (client credentials, and refresh tokens that
// Zendesk rotates), Twilio OAuth apps.
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../tools/controlplane/controlplane.ts';
import { startLocalShopifyServer } from '../../../tools/local-shopify-server.ts';
import { startLocalSlackServer } from '../../../tools/local-slack-server.ts';
import { startLocalTwilioServer } from '../../../tools/local-twilio-server.ts';
import { startLocalZendeskServer } from '../../../tools/local-zendesk-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import {
  apply,
  condition,
  getConnection,
  getSecret,
  secretText,
  waitForCondition,
} from '../../support/kube.ts';
import { AUDIENCE, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { generateClientKey } from '../../../tools/local-oauth-server.ts';
import { startTestOperator } from '../../support/operator.ts';
import { loadSample } from '../../support/samples.ts';

type Manifest = Parameters<typeof apply>[1];

/** The sample's objects, with `rewrite` applied to each (by kind). */
function sample(file: string, rewrite: (object: Manifest) => Manifest): Manifest[] {
  return loadSample(file).map(({ object }) => rewrite(structuredClone<Manifest>(object)));
}

describe('token samples', () => {
  it('auth0.yaml: an M2M client with the tenant Management API as default audience', async () => {
    const namespace = await useTestNamespace('auth0');
    const port = await freePort();
    const domain = `127.0.0.1:${port}`;
    const server = await startOAuthServer({
      port,
      accessTokenTtlSeconds: 60,
      clients: [
        { clientId: 'auth0-m2m', authMethod: 'client_secret_post', clientSecret: 'auth0-m2m-secret' },
      ],
      resourceServers: { [`https://${domain}/api/v2/`]: { scope: 'read:users update:users create:users' } },
    });
    await startTestOperator({ namespace, caPem: server.caPem });
    for (const object of sample('auth0.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'auth0-m2m', clientSecret: 'auth0-m2m-secret' };
      else (o.spec as { auth0: { domain: string } }).auth0.domain = domain;
      return o;
    })) {
      await apply(namespace, object);
    }
    const connection = await waitForCondition(namespace, 'auth0-management', 'Ready', 'True', 'TokenValid');
    expect(connection.status?.grantedScopes).toEqual(['read:users', 'update:users']);
    const token = secretText(await getSecret(namespace, 'auth0-management-token'), 'access_token') ?? '';
    expect(decodeJwt(token).aud).toBe(`https://${domain}/api/v2/`);
  });

  it('auth0-custom-domain.yaml: tokens from the custom domain for the tenant audience, one token minted for three connections', async () => {
    const namespace = await useTestNamespace('auth0-cd');
    const port = await freePort();
    const tenant = 'acme-example.eu.auth0.com';
    const server = await startOAuthServer({
      port,
      accessTokenTtlSeconds: 600,
      clients: [
        { clientId: 'auth0-m2m', authMethod: 'client_secret_post', clientSecret: 'auth0-m2m-secret' },
      ],
      resourceServers: { [`https://${tenant}/api/v2/`]: { scope: 'read:users update:users' } },
    });
    const operator = await startTestOperator({ namespace, caPem: server.caPem });
    const objects = sample('auth0-custom-domain.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'auth0-m2m', clientSecret: 'auth0-m2m-secret' };
      // The custom domain is the local server; the tenant domain only names the audience.
      else (o.spec as { auth0: { domain: string } }).auth0.domain = `127.0.0.1:${port}`;
      return o;
    });
    for (const object of objects) await apply(namespace, object);
    const connection = objects.find((o) => o.kind === 'VaultConnection') as Manifest;
    for (const name of ['auth0-users-2', 'auth0-users-3'])
      await apply(namespace, { ...connection, metadata: { name } });
    for (const name of ['auth0-users', 'auth0-users-2', 'auth0-users-3'])
      await waitForCondition(namespace, name, 'Ready', 'True', 'TokenValid');
    const token = secretText(await getSecret(namespace, 'auth0-users-token'), 'access_token') ?? '';
    expect(decodeJwt(token).aud).toBe(`https://${tenant}/api/v2/`);
    // Same client, audience and scopes: one token, counted once per client (what Auth0 bills).
    expect(server.tokenRequests()).toBe(1);
    const minted = (await operator.metrics.tokensMinted.get()).values.filter(
      (v) => v.labels.client_id === 'auth0-m2m',
    );
    expect(minted.map((v) => v.value)).toEqual([1]);
  });

  it('oauth2-client-credentials.yaml: a shared OAuthClient found by discovery', async () => {
    const namespace = await useTestNamespace('oauth2');
    const server = await startOAuthServer({
      accessTokenTtlSeconds: 600,
      clients: [{ clientId: 'acme', authMethod: 'client_secret_post', clientSecret: 'acme-secret' }],
      resourceServers: { 'https://billing.example.com/': { scope: 'invoices:read invoices:write' } },
    });
    await startTestOperator({ namespace, caPem: server.caPem });
    for (const object of sample('oauth2-client-credentials.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientSecret: 'acme-secret' };
      if (o.kind === 'OAuthClient')
        Object.assign(o.spec as object, { issuer: server.issuer, clientId: 'acme' });
      return o;
    })) {
      await apply(namespace, object);
    }
    await waitForCondition(namespace, 'billing-api', 'Ready', 'True', 'TokenValid');
    const client = await import('../../support/kube.ts').then((k) =>
      k
        .kube()
        .json<{ status: { tokenEndpoint?: string; conditions: { type: string; status: string }[] } }>(
          `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/oauthclients/acme-m2m`,
        ),
    );
    expect(client.status.tokenEndpoint).toBe(server.tokenEndpoint);
    expect(client.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The sample's template publishes a ready-made header.
    const secret = await getSecret(namespace, 'billing-api-token');
    expect(secretText(secret, 'Authorization')).toMatch(/^Bearer ey/);
  });

  it('oauth2-refresh-token.yaml: a user refresh token through a private_key_jwt OAuthClient, rotation persisted', async () => {
    const namespace = await useTestNamespace('oauth2-rt');
    const key = await generateClientKey('k1');
    const server = await startOAuthServer({
      accessTokenTtlSeconds: 60,
      clients: [{ clientId: 'calendar', authMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }],
    });
    const seed = await server.issueRefreshToken('calendar', {
      resource: AUDIENCE,
      scope: 'offline_access read:users',
    });
    await startTestOperator({ namespace, caPem: server.caPem });
    for (const object of sample('oauth2-refresh-token.yaml', (o) => {
      if (o.kind === 'Secret' && o.metadata.name === 'calendar-client-key')
        o.stringData = { privateKey: key.privateKeyPem, keyId: 'k1' };
      else if (o.kind === 'Secret') o.stringData = { refreshToken: seed };
      else if (o.kind === 'OAuthClient')
        Object.assign(o.spec as object, {
          issuer: server.issuer,
          tokenEndpoint: server.tokenEndpoint,
          clientId: 'calendar',
        });
      // The local server knows one API; the sample's scope is the calendar's.
      else o.spec = { ...(o.spec as object), oauth2: { grant: 'refresh_token', resource: [AUDIENCE] } };
      return o;
    })) {
      await apply(namespace, object);
    }
    await waitForCondition(namespace, 'calendar-user', 'Ready', 'True', 'TokenValid');
    const rotated = secretText(await getSecret(namespace, 'calendar-user-coffre-state'), 'refresh_token');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(seed);
    expect(await server.isActive(rotated ?? '')).toBe(true);
  });

  it('slack.yaml: rotating tokens through oauth.v2.access, the refresh token persisted', async () => {
    const namespace = await useTestNamespace('slack');
    const slack = await startLocalSlackServer({
      clientId: '0000000000.0000000000000',
      clientSecret: 'slack-secret',
      tokenLifetimeSeconds: 43_200,
    });
    const refreshToken = slack.issueRefreshToken();
    await startTestOperator({
      namespace,
      caPem: slack.caPem,
      flags: [`--slack-api-base-url=${slack.tokenEndpoint.replace(/\/oauth\.v2\.access$/, '')}`],
    });
    for (const object of sample('slack.yaml', (o) => {
      if (o.kind === 'Secret')
        o.stringData = { clientId: '0000000000.0000000000000', clientSecret: 'slack-secret', refreshToken };
      return o;
    })) {
      await apply(namespace, object);
    }
    const connection = await waitForCondition(namespace, 'slack-alerts', 'Ready', 'True', 'TokenValid');
    expect(condition(connection, 'Expired')?.status).toBe('False');
    const secret = await getSecret(namespace, 'slack-alerts-token');
    expect(secretText(secret, 'access_token')).toMatch(/^xoxe\.xoxb-|^xox/);
    expect(secretText(secret, 'token_type')).toBe('Bearer');
    const rotated = secretText(await getSecret(namespace, 'slack-alerts-coffre-state'), 'refresh_token');
    expect(rotated).toMatch(/^xoxe-1-/);
    expect(rotated).not.toBe(refreshToken);
    expect(slack.isActive(refreshToken)).toBe(false);
    await slack.stop();
  });

  it('shopify-client-credentials.yaml: a token without token_type, published with the shop domain', async () => {
    const namespace = await useTestNamespace('shopify');
    const shop = await startLocalShopifyServer({
      clientId: 'shop-app',
      clientSecret: 'shop-secret',
      scope: 'read_orders',
    });
    await startTestOperator({
      namespace,
      caPem: shop.caPem,
      flags: [`--shopify-base-url=${new URL(shop.tokenEndpoint).origin}`],
    });
    for (const object of sample('shopify-client-credentials.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'shop-app', clientSecret: 'shop-secret' };
      return o;
    })) {
      await apply(namespace, object);
    }
    const connection = await waitForCondition(namespace, 'orders', 'Ready', 'True', 'TokenValid');
    expect(connection.status?.expiresAt).toBeDefined();
    expect(connection.status?.grantedScopes).toEqual(['read_orders']);
    const secret = await getSecret(namespace, 'orders-token');
    expect(secretText(secret, 'token_type')).toBe('Bearer');
    expect(secretText(secret, 'shop_domain')).toBe('acme-example.myshopify.com');
    expect(shop.tokenRequests()).toBe(1);
    expect(shop.bodies().at(-1)).not.toHaveProperty('scope');
    await shop.stop();
  });

  it('shopify-client-credentials.yaml with strictScopes: a grant wider than spec.shopify.scopes is not published', async () => {
    const namespace = await useTestNamespace('shopify-strict');
    const shop = await startLocalShopifyServer({
      clientId: 'shop-app',
      clientSecret: 'shop-secret',
      scope: 'read_orders,write_products',
    });
    await startTestOperator({
      namespace,
      caPem: shop.caPem,
      flags: [`--shopify-base-url=${new URL(shop.tokenEndpoint).origin}`],
    });
    for (const object of sample('shopify-client-credentials.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'shop-app', clientSecret: 'shop-secret' };
      return o;
    })) {
      await apply(namespace, object);
    }
    const refused = await waitForCondition(namespace, 'orders', 'Ready', 'False', 'ScopesExceeded');
    expect(condition(refused, 'Ready')?.message).toContain('write_products');
    expect(await getSecret(namespace, 'orders-token')).toBeUndefined();
    await shop.stop();
  });

  it('shopify-offline-token.yaml: expiring offline tokens renewed with their rotating refresh token', async () => {
    const namespace = await useTestNamespace('shopify-offline');
    const shop = await startLocalShopifyServer({
      clientId: 'shop-app',
      clientSecret: 'shop-secret',
      scope: 'read_products,write_orders',
      offlineTokenLifetimeSeconds: 3,
    });
    const seed = shop.issueRefreshToken();
    await startTestOperator({
      namespace,
      caPem: shop.caPem,
      flags: [`--shopify-base-url=${new URL(shop.tokenEndpoint).origin}`],
    });
    for (const object of sample('shopify-offline-token.yaml', (o) => {
      if (o.kind === 'Secret')
        o.stringData = { clientId: 'shop-app', clientSecret: 'shop-secret', refreshToken: seed };
      return o;
    })) {
      await apply(namespace, object);
    }
    const connection = await waitForCondition(namespace, 'shopify-offline', 'Ready', 'True', 'TokenValid');
    expect(connection.status?.grantedScopes).toEqual(['read_products', 'write_orders']);
    const state = async () =>
      secretText(await getSecret(namespace, 'shopify-offline-coffre-state'), 'refresh_token');
    const first = await state();
    expect(first).toMatch(/^shprt_/);
    expect(first).not.toBe(seed);
    // Renewed before expiry from the persisted token; using it retires the seed.
    await expect.poll(state, { timeout: 15_000 }).not.toBe(first);
    expect(shop.isActive(seed)).toBe(false);
    await expect.poll(async () => shop.isActive((await state()) ?? ''), { timeout: 5_000 }).toBe(true);
    expect(condition(await getConnection(namespace, 'shopify-offline'), 'Expired')?.status).toBe('False');
    expect(shop.invalidGrants()).toBe(0);
    await shop.stop();
  });

  it("shopify-offline-token.yaml with a wrong client secret: Ready=False InvalidClient, naming Shopify's code", async () => {
    const namespace = await useTestNamespace('shopify-bad');
    const shop = await startLocalShopifyServer({ clientId: 'shop-app', clientSecret: 'shop-secret' });
    await startTestOperator({
      namespace,
      caPem: shop.caPem,
      flags: [`--shopify-base-url=${new URL(shop.tokenEndpoint).origin}`],
    });
    for (const object of sample('shopify-offline-token.yaml', (o) => {
      if (o.kind === 'Secret')
        o.stringData = {
          clientId: 'shop-app',
          clientSecret: 'wrong',
          refreshToken: shop.issueRefreshToken(),
        };
      return o;
    })) {
      await apply(namespace, object);
    }
    const refused = await waitForCondition(namespace, 'shopify-offline', 'Ready', 'False', 'InvalidClient');
    expect(condition(refused, 'Ready')?.message).toContain('HTTP 400, invalid_client');
    await shop.stop();
  });

  it('zendesk.yaml: an OAuth client, client credentials at /oauth/tokens with the scopes and lifetime asked', async () => {
    const namespace = await useTestNamespace('zendesk');
    const zendesk = await startLocalZendeskServer({
      clientId: 'coffre',
      clientSecret: 'zendesk-secret',
      allowedScopes: ['read', 'tickets:read', 'users:read'],
    });
    await startTestOperator({
      namespace,
      caPem: zendesk.caPem,
      flags: [`--zendesk-base-url=${zendesk.baseUrl}`],
    });
    for (const object of sample('zendesk.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'coffre', clientSecret: 'zendesk-secret' };
      return o;
    })) {
      await apply(namespace, object);
    }
    const connection = await waitForCondition(namespace, 'zendesk-support', 'Ready', 'True', 'TokenValid');
    expect(connection.status?.grantedScopes).toEqual(['tickets:read', 'users:read']);
    const lifetime =
      Date.parse(connection.status?.expiresAt ?? '') - Date.parse(connection.status?.lastRefreshTime ?? '');
    expect(lifetime).toBeGreaterThan(7_190_000);
    expect(lifetime).toBeLessThanOrEqual(7_200_000);
    expect(zendesk.bodies().at(-1)).toMatchObject({
      grant_type: 'client_credentials',
      scope: 'tickets:read users:read',
      expires_in: 7200,
    });
    const secret = await getSecret(namespace, 'zendesk-support-token');
    expect(secretText(secret, 'base_url')).toBe('https://acme-example.zendesk.com');
    expect(zendesk.isAccessTokenActive(secretText(secret, 'access_token') ?? '')).toBe(true);
    expect(secretText(secret, 'token_type')).toBe('Bearer');
    await zendesk.stop();
  });

  it('zendesk.yaml with short tokens: renewed with the client credentials before they expire', async () => {
    const namespace = await useTestNamespace('zendesk-renew');
    const zendesk = await startLocalZendeskServer({
      clientId: 'coffre',
      clientSecret: 'zendesk-secret',
      tokenLifetimeSeconds: 3,
    });
    await startTestOperator({
      namespace,
      caPem: zendesk.caPem,
      flags: [`--zendesk-base-url=${zendesk.baseUrl}`],
    });
    for (const object of sample('zendesk.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'coffre', clientSecret: 'zendesk-secret' };
      // Without expires_in the server's 3-second lifetime applies (Zendesk accepts no less than 300).
      else delete (o.spec as { zendesk: { expiresInSeconds?: number } }).zendesk.expiresInSeconds;
      return o;
    })) {
      await apply(namespace, object);
    }
    await waitForCondition(namespace, 'zendesk-support', 'Ready', 'True', 'TokenValid');
    const published = async () =>
      secretText(await getSecret(namespace, 'zendesk-support-token'), 'access_token');
    const first = await published();
    await expect.poll(published, { timeout: 15_000 }).not.toBe(first);
    expect(zendesk.tokenRequests('client_credentials')).toBeGreaterThanOrEqual(2);
    expect(condition(await getConnection(namespace, 'zendesk-support'), 'Expired')?.status).toBe('False');
    await zendesk.stop();
  });

  it("zendesk.yaml with a wrong client secret: Ready=False InvalidClient, with Zendesk's own error code", async () => {
    const namespace = await useTestNamespace('zendesk-bad');
    const zendesk = await startLocalZendeskServer({ clientId: 'coffre', clientSecret: 'zendesk-secret' });
    await startTestOperator({
      namespace,
      caPem: zendesk.caPem,
      flags: [`--zendesk-base-url=${zendesk.baseUrl}`],
    });
    for (const object of sample('zendesk.yaml', (o) => {
      if (o.kind === 'Secret') o.stringData = { clientId: 'coffre', clientSecret: 'not-the-secret' };
      return o;
    })) {
      await apply(namespace, object);
    }
    const refused = await waitForCondition(namespace, 'zendesk-support', 'Ready', 'False', 'InvalidClient');
    expect(condition(refused, 'Ready')?.message).toContain('HTTP 401, invalid_client');
    expect(JSON.stringify(refused)).not.toContain('not-the-secret');
    // Terminal: no retry loop against Zendesk until the Secret changes.
    const requests = zendesk.tokenRequests();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(zendesk.tokenRequests()).toBe(requests);
    await zendesk.stop();
  });

  it('zendesk-refresh-token.yaml: each renewal rotates both tokens; the new refresh token is persisted before use', async () => {
    const namespace = await useTestNamespace('zendesk-rt');
    // Short tokens, so that renewals come within seconds.
    const zendesk = await startLocalZendeskServer({
      clientId: 'coffre',
      clientSecret: 'zendesk-secret',
      tokenLifetimeSeconds: 3,
    });
    const seed = zendesk.issueRefreshToken();
    await startTestOperator({
      namespace,
      caPem: zendesk.caPem,
      flags: [`--zendesk-base-url=${zendesk.baseUrl}`],
    });
    for (const object of sample('zendesk-refresh-token.yaml', (o) => {
      if (o.kind === 'Secret')
        o.stringData = { clientId: 'coffre', clientSecret: 'zendesk-secret', refreshToken: seed };
      return o;
    })) {
      await apply(namespace, object);
    }
    await waitForCondition(namespace, 'zendesk-agent', 'Ready', 'True', 'TokenValid');
    const state = async () =>
      secretText(await getSecret(namespace, 'zendesk-agent-coffre-state'), 'refresh_token');
    const first = await state();
    expect(first).toBeDefined();
    expect(zendesk.isActive(seed)).toBe(false);
    // Renewed before expiry, from the persisted token: it rotates again.
    await expect.poll(state, { timeout: 15_000 }).not.toBe(first);
    expect(zendesk.tokenRequests('refresh_token')).toBeGreaterThanOrEqual(2);
    // What is published and what is persisted are the live pair (read together: a renewal may rotate both).
    await expect
      .poll(
        async () => {
          const published =
            secretText(await getSecret(namespace, 'zendesk-agent-token'), 'access_token') ?? '';
          return zendesk.isActive((await state()) ?? '') && zendesk.isAccessTokenActive(published);
        },
        { timeout: 5_000 },
      )
      .toBe(true);
    expect(condition(await getConnection(namespace, 'zendesk-agent'), 'Expired')?.status).toBe('False');
    expect(zendesk.invalidGrants()).toBe(0);
    await zendesk.stop();
  });

  it('twilio-oauth-app.yaml: Bearer tokens for an OAuth app, renewed before they expire', async () => {
    const namespace = await useTestNamespace('twilio-oauth');
    // Short tokens, so that a renewal comes within seconds.
    const twilio = await startLocalTwilioServer({
      clientId: 'OQ00000000000000000000000000000000',
      clientSecret: 'twilio-secret',
      tokenLifetimeSeconds: 3,
    });
    await startTestOperator({
      namespace,
      caPem: twilio.caPem,
      flags: [`--twilio-oauth-base-url=${twilio.baseUrl}`],
    });
    for (const object of sample('twilio-oauth-app.yaml', (o) => {
      if (o.kind === 'Secret') (o.stringData as Record<string, string>).clientSecret = 'twilio-secret';
      return o;
    })) {
      await apply(namespace, object);
    }
    await waitForCondition(namespace, 'twilio-oauth', 'Ready', 'True', 'TokenValid');
    // The sample's template publishes a ready-made header (and the account SID), nothing else.
    const published = async () =>
      secretText(await getSecret(namespace, 'twilio-oauth-token'), 'Authorization') ?? '';
    const first = await published();
    expect(first).toMatch(/^Bearer eyJ/);
    expect(secretText(await getSecret(namespace, 'twilio-oauth-token'), 'account_sid')).toBe(
      'AC00000000000000000000000000000000',
    );
    // Renewed before expiry: a new token replaces the first while it is still valid.
    await expect.poll(published, { timeout: 15_000 }).not.toBe(first);
    expect(condition(await getConnection(namespace, 'twilio-oauth'), 'Expired')?.status).toBe('False');
    expect(twilio.isActive((await published()).replace(/^Bearer /, ''))).toBe(true);
    await twilio.stop();
  });

  it("twilio-oauth-app.yaml with a wrong secret: Ready=False InvalidClient, naming Twilio's error 20003", async () => {
    const namespace = await useTestNamespace('twilio-bad');
    const twilio = await startLocalTwilioServer({
      clientId: 'OQ00000000000000000000000000000000',
      clientSecret: 'twilio-secret',
    });
    await startTestOperator({
      namespace,
      caPem: twilio.caPem,
      flags: [`--twilio-oauth-base-url=${twilio.baseUrl}`],
    });
    for (const object of sample('twilio-oauth-app.yaml', (o) => o)) await apply(namespace, object);
    const refused = await waitForCondition(namespace, 'twilio-oauth', 'Ready', 'False', 'InvalidClient');
    expect(condition(refused, 'Ready')?.message).toContain('HTTP 401, Twilio error 20003');
    expect(JSON.stringify(refused)).not.toContain('FAKE-twilio-client-secret-not-real');
    await twilio.stop();
  });
});
