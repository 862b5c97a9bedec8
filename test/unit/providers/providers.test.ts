import { describe, expect, it } from 'vitest';
import type { VaultConnectionSpec } from '../../../src/api/v1alpha1/vault-connection.ts';
import type { Plan, ProviderInput } from '../../../src/providers/provider.ts';
import { createProviderRegistry } from '../../../src/providers/registry.ts';
import { secret, type SecretValue } from '../../../src/secrets/secret-value.ts';

const providers = createProviderRegistry();
const config = {
  slackApiBaseUrl: 'https://slack.com/api',
  shopifyBaseUrl: 'https://{shop}',
  zendeskBaseUrl: 'https://{subdomain}.zendesk.com',
  twilioOAuthBaseUrl: 'https://oauth.twilio.com',
};

function plan(
  spec: VaultConnectionSpec,
  credentials: Record<string, string> = {},
  extra: Partial<ProviderInput> = {},
): Plan {
  return providers[spec.type].plan({
    spec,
    credentials: new Map(Object.entries(credentials).map(([k, v]) => [k, secret(v)])),
    config,
    ...extra,
  });
}

function published(result: Plan): Record<string, string> {
  if (result.kind !== 'static') throw new Error(`expected a static plan, got ${result.kind}`);
  return Object.fromEntries([...result.data].map(([k, v]: [string, SecretValue]) => [k, v.reveal()]));
}

describe('static providers', () => {
  it.each([
    ['apiKey', { type: 'apiKey' }, { apiKey: ' k\n' }, { api_key: 'k' }],
    ['bearerToken', { type: 'bearerToken' }, { token: 't' }, { access_token: 't', token_type: 'Bearer' }],
    [
      'basicAuth',
      { type: 'basicAuth' },
      { username: 'u', password: ' p ' },
      { username: 'u', password: ' p ', authorization: `Basic ${Buffer.from('u: p ').toString('base64')}` },
    ],
    [
      'twilio with an API key',
      { type: 'twilio' },
      {
        accountSid: `AC${'a'.repeat(32)}`,
        apiKeySid: `SK${'b'.repeat(32)}`,
        apiKeySecret: 's',
        authToken: 'ignored',
      },
      { account_sid: `AC${'a'.repeat(32)}`, username: `SK${'b'.repeat(32)}`, password: 's' },
    ],
    [
      'twilio with the auth token',
      { type: 'twilio' },
      { accountSid: `AC${'a'.repeat(32)}`, authToken: 'at' },
      { account_sid: `AC${'a'.repeat(32)}`, username: `AC${'a'.repeat(32)}`, password: 'at' },
    ],
    [
      'zendesk with an API token',
      { type: 'zendesk', zendesk: { subdomain: 'acme' } },
      { email: 'a@b.c', apiToken: 'z' },
      { base_url: 'https://acme.zendesk.com', username: 'a@b.c/token', password: 'z' },
    ],
    [
      'zendesk with an OAuth token',
      { type: 'zendesk', zendesk: { subdomain: 'acme' } },
      { accessToken: 'o' },
      { base_url: 'https://acme.zendesk.com', access_token: 'o', token_type: 'Bearer' },
    ],
    [
      'slack with a bot token',
      { type: 'slack' },
      { botToken: 'xoxb-1' },
      { access_token: 'xoxb-1', token_type: 'Bearer' },
    ],
    [
      'shopify with an admin token',
      { type: 'shopify', shopify: { shopDomain: 'a.myshopify.com' } },
      { accessToken: 'shpat_1' },
      { shop_domain: 'a.myshopify.com', access_token: 'shpat_1', token_type: 'Bearer' },
    ],
  ] as [string, VaultConnectionSpec, Record<string, string>, Record<string, string>][])(
    'should publish %s in its normalised form',
    (_title, spec, credentials, expected) => {
      expect(published(plan(spec, credentials))).toEqual(expected);
    },
  );

  it.each([
    ['apiKey', { type: 'apiKey' }, {}, ['apiKey']],
    ['basicAuth', { type: 'basicAuth' }, { username: 'u', password: '  ' }, ['password']],
    [
      'twilio, closest to the API key variant',
      { type: 'twilio' },
      { accountSid: 'AC1', apiKeySid: 'SK1' },
      ['apiKeySecret'],
    ],
    [
      'auth0 without an OAuthClient',
      { type: 'auth0', auth0: { domain: 'a.auth0.com' } },
      { clientId: 'c' },
      ['clientSecret'],
    ],
  ] as [string, VaultConnectionSpec, Record<string, string>, string[]][])(
    'should report the keys %s lacks',
    (_title, spec, credentials, keys) => {
      expect(plan(spec, credentials)).toMatchObject({ kind: 'missing', keys });
    },
  );

  it.each([
    [
      'an account SID of the wrong shape',
      { type: 'twilio' },
      { accountSid: 'AC-SECRET', authToken: 'x' },
      'accountSid',
    ],
    ['a user name with a colon', { type: 'basicAuth' }, { username: 'a:b', password: 'p' }, 'username'],
    ['an API key with inner whitespace', { type: 'apiKey' }, { apiKey: 'a SECRET' }, 'apiKey'],
    ['a Slack token of the wrong shape', { type: 'slack' }, { botToken: 'SECRET' }, 'botToken'],
  ] as [string, VaultConnectionSpec, Record<string, string>, string][])(
    'should refuse %s, naming the key and not the value',
    (_title, spec, credentials, key) => {
      const result = plan(spec, credentials);
      expect(result.kind).toBe('invalid');
      if (result.kind !== 'invalid') return;
      expect(result.message).toContain(key);
      expect(result.message).not.toContain('SECRET');
    },
  );
});

describe('token providers', () => {
  it('auth0: client_credentials at the tenant with client_secret_post, audience defaulting to the Management API', () => {
    const result = plan(
      { type: 'auth0', auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users'] } },
      { clientId: 'c', clientSecret: 's' },
    );
    expect(result.kind).toBe('token');
    if (result.kind !== 'token') return;
    expect(result.request).toMatchObject({
      client: {
        issuer: 'https://acme.eu.auth0.com/',
        tokenEndpoint: 'https://acme.eu.auth0.com/oauth/token',
        authMethod: 'client_secret_post',
        clientId: 'c',
      },
      grant: { type: 'client_credentials' },
      audience: 'https://acme.eu.auth0.com/api/v2/',
      scopes: ['read:users'],
    });
  });

  it('auth0: an explicit audience wins', () => {
    const result = plan(
      { type: 'auth0', auth0: { domain: 'a.auth0.com', audience: 'my-api' } },
      { clientId: 'c', clientSecret: 's' },
    );
    expect(result.kind === 'token' && result.request.audience).toBe('my-api');
  });

  const client = {
    issuer: 'https://idp.example/',
    authMethod: 'client_secret_basic' as const,
    clientId: 'c',
    clientSecret: secret('s'),
  };

  it('oauth2: without an OAuthClient the connection is empty', () => {
    expect(plan({ type: 'oauth2' })).toMatchObject({ kind: 'missing' });
  });

  it('oauth2: refresh_token prefers the rotated token coffre persisted over the seed', () => {
    const spec: VaultConnectionSpec = {
      type: 'oauth2',
      oauth2: { grant: 'refresh_token', resource: ['https://api.example/'] },
    };
    const seeded = plan(spec, { refreshToken: 'seed' }, { oauthClient: client });
    const rotated = plan(
      spec,
      { refreshToken: 'seed' },
      { oauthClient: client, rotatedRefreshToken: secret('r2') },
    );
    expect(seeded.kind === 'token' && seeded.refreshTokenSource).toBe('credentials');
    expect(rotated.kind === 'token' && rotated.refreshTokenSource).toBe('rotated');
    if (rotated.kind !== 'token' || rotated.request.grant.type !== 'refresh_token')
      throw new Error('unexpected plan');
    expect(rotated.request.grant.refreshToken.reveal()).toBe('r2');
    expect(rotated.request.resource).toEqual(['https://api.example/']);
  });

  it('slack: rotating tokens through oauth.v2.access under the configured base URL, published as Bearer', () => {
    const result = plan({ type: 'slack' }, { clientId: 'c', clientSecret: 's', refreshToken: 'xoxe-1' });
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.request.client.tokenEndpoint).toBe('https://slack.com/api/oauth.v2.access');
    expect(result.request.flavour).toBe('slack');
    const data = result.publish({
      accessToken: secret('xoxe.xoxb-1'),
      tokenType: 'bot',
      issuedAt: 0,
      expiresAt: 43_200_000,
    });
    expect(data.get('token_type')?.reveal()).toBe('Bearer');
    expect(data.get('expires_at')?.reveal()).toBe('1970-01-01T12:00:00Z');
  });

  it('zendesk: an OAuth client mints with client credentials at /oauth/tokens, with scopes and lifetime', () => {
    const result = plan(
      {
        type: 'zendesk',
        zendesk: { subdomain: 'acme', scopes: ['tickets:read', 'users:read'], expiresInSeconds: 7200 },
      },
      { clientId: ' coffre ', clientSecret: 's' },
    );
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.variant).toBe('client-credentials');
    expect(result.request.client.tokenEndpoint).toBe('https://acme.zendesk.com/oauth/tokens');
    expect(result.request.client.clientId).toBe('coffre');
    expect(result.request.grant).toEqual({ type: 'client_credentials' });
    expect(result.request.scopes).toEqual(['tickets:read', 'users:read']);
    expect(result.request.expiresInSeconds).toBe(7200);
    expect(result.request.flavour).toBe('zendesk');
    expect(result.refreshTokenSource).toBeUndefined();
    const data = result.publish({
      accessToken: secret('t'),
      tokenType: 'Bearer',
      issuedAt: 0,
      expiresAt: 7_200_000,
    });
    expect(Object.fromEntries([...data].map(([k, v]) => [k, v.reveal()]))).toEqual({
      base_url: 'https://acme.zendesk.com',
      access_token: 't',
      token_type: 'Bearer',
      expires_at: '1970-01-01T02:00:00Z',
    });
  });

  it.each([
    ['should start from the refresh token of the credentials Secret', undefined, 'seed', 'credentials'],
    ['should prefer the rotation coffre persisted', secret('rotated'), 'rotated', 'rotated'],
  ] as const)('zendesk: %s', (_title, rotated, expected, source) => {
    const result = plan(
      { type: 'zendesk', zendesk: { subdomain: 'acme' } },
      { clientId: 'c', clientSecret: 's', refreshToken: 'seed' },
      rotated === undefined ? {} : { rotatedRefreshToken: rotated },
    );
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.variant).toBe('refresh-token');
    if (result.request.grant.type !== 'refresh_token') throw new Error('expected the refresh_token grant');
    expect(result.request.grant.refreshToken.reveal()).toBe(expected);
    expect(result.refreshTokenSource).toBe(source);
  });

  it('zendesk: an API token is published with the retirement date', () => {
    const result = plan(
      { type: 'zendesk', zendesk: { subdomain: 'acme' } },
      { email: 'a@b.c', apiToken: 'z' },
    );
    if (result.kind !== 'static') throw new Error('expected a static plan');
    expect(result.retiring).toContain('2027-04-30');
    expect(result.retiring).not.toContain('z ');
  });

  it('zendesk: the OAuth client wins over an API token in the same Secret', () => {
    const result = plan(
      { type: 'zendesk', zendesk: { subdomain: 'acme' } },
      { clientId: 'c', clientSecret: 's', email: 'a@b.c', apiToken: 'z' },
    );
    expect(result.kind).toBe('token');
  });

  it('twilio: an OAuth app mints with client credentials at oauth.twilio.com/v2/token', () => {
    const result = plan(
      { type: 'twilio' },
      { clientId: ' OQ1 ', clientSecret: 's', accountSid: `AC${'a'.repeat(32)}` },
    );
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.variant).toBe('oauth-app');
    expect(result.request.client.tokenEndpoint).toBe('https://oauth.twilio.com/v2/token');
    expect(result.request.client.clientId).toBe('OQ1');
    expect(result.request.grant).toEqual({ type: 'client_credentials' });
    expect(result.request.flavour).toBe('twilio');
    const data = result.publish({
      accessToken: secret('t'),
      tokenType: 'Bearer',
      issuedAt: 0,
      expiresAt: 3_600_000,
    });
    expect(Object.fromEntries([...data].map(([k, v]) => [k, v.reveal()]))).toEqual({
      account_sid: `AC${'a'.repeat(32)}`,
      access_token: 't',
      token_type: 'Bearer',
      expires_at: '1970-01-01T01:00:00Z',
    });
  });

  it('twilio: an OAuth app with a malformed accountSid is refused by key', () => {
    expect(plan({ type: 'twilio' }, { clientId: 'OQ1', clientSecret: 's', accountSid: 'nope' })).toEqual({
      kind: 'invalid',
      message:
        'key accountSid of the credentials Secret must be an account SID (AC followed by 32 hex digits)',
    });
  });

  it.each([
    ['should start from the refresh token of the credentials Secret', undefined, 'seed', 'credentials'],
    ['should prefer the rotation coffre persisted', secret('rotated'), 'rotated', 'rotated'],
  ] as const)('shopify offline token: %s', (_title, rotated, expected, source) => {
    const result = plan(
      { type: 'shopify', shopify: { shopDomain: 'a.myshopify.com', scopes: ['read_orders'] } },
      { clientId: 'c', clientSecret: 's', refreshToken: 'seed' },
      rotated === undefined ? {} : { rotatedRefreshToken: rotated },
    );
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.variant).toBe('offline-token');
    if (result.request.grant.type !== 'refresh_token') throw new Error('expected the refresh_token grant');
    expect(result.request.grant.refreshToken.reveal()).toBe(expected);
    expect(result.refreshTokenSource).toBe(source);
    expect(result.request.scopes).toEqual(['read_orders']);
  });

  it.each([
    ['the tenant domain', { domain: 'acme.eu.auth0.com' }, 'https://acme.eu.auth0.com/api/v2/'],
    [
      'the tenant domain beside a custom domain',
      { domain: 'login.acme.com', tenantDomain: 'acme.eu.auth0.com' },
      'https://acme.eu.auth0.com/api/v2/',
    ],
    [
      'the audience, whatever the domains',
      { domain: 'login.acme.com', tenantDomain: 'acme.eu.auth0.com', audience: 'https://api.acme.com/' },
      'https://api.acme.com/',
    ],
  ])('auth0: should request tokens at domain, for the audience of %s', (_title, settings, audience) => {
    const result = plan({ type: 'auth0', auth0: settings }, { clientId: 'c', clientSecret: 's' });
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.request.client.tokenEndpoint).toBe(`https://${settings.domain}/oauth/token`);
    expect(result.request.audience).toBe(audience);
  });

  it('shopify: client credentials at the shop, published with the shop domain', () => {
    const result = plan(
      { type: 'shopify', shopify: { shopDomain: 'a.myshopify.com', scopes: ['read_orders'] } },
      { clientId: 'c', clientSecret: 's' },
    );
    if (result.kind !== 'token') throw new Error('expected a token plan');
    expect(result.request.client.tokenEndpoint).toBe('https://a.myshopify.com/admin/oauth/access_token');
    const data = result.publish({
      accessToken: secret('t'),
      tokenType: '',
      issuedAt: 0,
      grantedScopes: ['read_orders'],
    });
    expect(Object.fromEntries([...data].map(([k, v]) => [k, v.reveal()]))).toEqual({
      access_token: 't',
      token_type: 'Bearer',
      scope: 'read_orders',
      shop_domain: 'a.myshopify.com',
    });
  });
});
