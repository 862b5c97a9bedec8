// The Slack, Shopify, Zendesk and Twilio adapters against servers shaped like theirs (HTTPS on 127.0.0.1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientConfig, TokenEngine, TokenRequest } from '../../src/oauth/index.ts';
import { secret } from '../../src/secrets/secret-value.ts';
import { sendJson, startLocalHttpsServer, type LocalHttpsServer } from '../../tools/local-https-server.ts';
import { startLocalShopifyServer, type LocalShopifyServer } from '../../tools/local-shopify-server.ts';
import { startLocalSlackServer, type LocalSlackServer } from '../../tools/local-slack-server.ts';
import {
  startLocalTwilioServer,
  twilioError,
  type LocalTwilioServer,
} from '../../tools/local-twilio-server.ts';
import {
  startLocalZendeskServer,
  ZENDESK_FAILURES,
  type LocalZendeskServer,
} from '../../tools/local-zendesk-server.ts';
import { localEngine, rejection } from './support/engine.ts';
import { useCertificateAuthority } from './support/servers.ts';

const authority = useCertificateAuthority();

describe('Slack (oauth.v2.access with token rotation)', () => {
  let slack: LocalSlackServer;
  let engine: TokenEngine;
  beforeAll(async () => {
    slack = await startLocalSlackServer({
      clientId: 'A0APP',
      clientSecret: 'slack-secret',
      ca: authority.ca,
      tokenLifetimeSeconds: 43_200,
    });
    engine = localEngine(slack.caPem);
  });
  afterAll(async () => {
    await engine.close();
    await slack.stop();
  });

  const client = (overrides: Partial<ClientConfig> = {}): ClientConfig => ({
    issuer: 'https://slack.com',
    tokenEndpoint: slack.tokenEndpoint,
    authMethod: 'client_secret_post',
    clientId: 'A0APP',
    clientSecret: secret('slack-secret'),
    ...overrides,
  });
  const refresh = (refreshToken: string, overrides: Partial<ClientConfig> = {}): TokenRequest => ({
    client: client(overrides),
    grant: { type: 'refresh_token', refreshToken: secret(refreshToken) },
    flavour: 'slack',
  });

  it('refreshes, returning the bot token, its expiry, comma-separated scopes and the rotated refresh token', async () => {
    const original = slack.issueRefreshToken();
    const token = await engine.getToken(refresh(original));
    expect(token.tokenType).toBe('bot');
    expect(token.accessToken.reveal()).toMatch(/^xoxe\.xoxb-/);
    expect(token.expiresAt).toBe(token.issuedAt + 43_200_000);
    expect(token.grantedScopes).toEqual(['chat:write', 'channels:read']);
    const rotated = token.refreshToken?.reveal() ?? '';
    expect(rotated).toMatch(/^xoxe-1-/);
    expect(slack.isActive(original)).toBe(false);
    expect(slack.isActive(rotated)).toBe(true);
  });

  it('authenticates with HTTP Basic when configured so', async () => {
    const token = await engine.getToken(
      refresh(slack.issueRefreshToken(), { authMethod: 'client_secret_basic' }),
    );
    expect(token.tokenType).toBe('bot');
  });

  it('maps ok:false invalid_refresh_token to reauthorization_required, terminal', async () => {
    const before = slack.tokenRequests();
    const error = await rejection(engine.getToken(refresh('xoxe-1-unknown')));
    expect(error).toMatchObject({
      code: 'reauthorization_required',
      retryable: false,
      serverError: 'invalid_refresh_token',
      status: 200,
    });
    expect(slack.tokenRequests()).toBe(before + 1);
  });

  it.each([
    ['bad_client_secret', { clientSecret: secret('wrong') }, 'invalid_client'],
    ['invalid_client_id', { clientId: 'A0OTHER' }, 'invalid_client'],
  ])('maps ok:false %s to %s', async (serverError, overrides, code) => {
    const error = await rejection(engine.getToken(refresh(slack.issueRefreshToken(), overrides)));
    expect(error).toMatchObject({ code, serverError, retryable: false });
  });

  it('maps HTTP 429 with Retry-After to rate_limited', async () => {
    slack.failNext('ratelimited', { status: 429, retryAfterSeconds: 30 });
    const own = localEngine(slack.caPem);
    const error = await rejection(own.getToken(refresh(slack.issueRefreshToken())));
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 30_000, status: 429 });
    // The host is now held: the next request fails fast without reaching Slack.
    const before = slack.tokenRequests();
    expect((await rejection(own.getToken(refresh(slack.issueRefreshToken())))).code).toBe('rate_limited');
    expect(slack.tokenRequests()).toBe(before);
    await own.close();
  });

  it('maps ok:false ratelimited (HTTP 200) to rate_limited', async () => {
    slack.failNext('ratelimited', { retryAfterSeconds: 5 });
    const own = localEngine(slack.caPem);
    expect(await rejection(own.getToken(refresh(slack.issueRefreshToken())))).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 5_000,
    });
    await own.close();
  });

  it('maps an unrecognised ok:false error to oauth_error without repeating it', async () => {
    slack.failNext('something_new_and_odd');
    const error = await rejection(engine.getToken(refresh(slack.issueRefreshToken())));
    expect(error).toMatchObject({ code: 'oauth_error', retryable: true });
    expect(error.message).not.toContain('something_new_and_odd');
  });

  it('refuses the client_credentials grant as a configuration error', async () => {
    const error = await rejection(
      engine.getToken({ client: client(), grant: { type: 'client_credentials' }, flavour: 'slack' }),
    );
    expect(error.code).toBe('invalid_configuration');
  });
});

describe('Shopify (client credentials and expiring offline tokens, no token_type)', () => {
  let shop: LocalShopifyServer;
  let engine: TokenEngine;
  beforeAll(async () => {
    shop = await startLocalShopifyServer({
      clientId: 'shop-client',
      clientSecret: 'shpss_secret',
      ca: authority.ca,
    });
    engine = localEngine(shop.caPem);
  });
  afterAll(async () => {
    await engine.close();
    await shop.stop();
  });

  const request = (clientSecret = 'shpss_secret'): TokenRequest => ({
    client: {
      issuer: 'https://acme.myshopify.com',
      tokenEndpoint: shop.tokenEndpoint,
      authMethod: 'client_secret_post',
      clientId: 'shop-client',
      clientSecret: secret(clientSecret),
    },
    grant: { type: 'client_credentials' },
    flavour: 'shopify',
  });

  it('gets a token, defaulting the type to Bearer, with scopes and expiry', async () => {
    const token = await engine.getToken(request());
    expect(token.accessToken.reveal()).toMatch(/^shpat_/);
    expect(token.tokenType).toBe('Bearer');
    expect(token.grantedScopes).toEqual(['read_products', 'write_orders']);
    expect(token.expiresAt).toBe(token.issuedAt + 86_399_000);
  });

  it('shares one token among 100 concurrent callers', async () => {
    const own = localEngine(shop.caPem);
    const before = shop.tokenRequests();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => own.getToken(request())));
    expect(shop.tokenRequests()).toBe(before + 1);
    expect(new Set(tokens).size).toBe(1);
    await own.close();
  });

  it('maps a rejected secret to invalid_client, without the description', async () => {
    const error = await rejection(engine.getToken(request('wrong')));
    expect(error).toMatchObject({ code: 'invalid_client', retryable: false, status: 400 });
    expect(error.message).not.toContain('Client credentials are invalid');
  });

  it('sends no scope (Shopify takes none), and reads the comma-separated grant', async () => {
    const own = localEngine(shop.caPem);
    await own.getToken({ ...request(), scopes: ['read_orders'] });
    expect(shop.bodies().at(-1)).toEqual({
      client_id: 'shop-client',
      client_secret: 'shpss_secret',
      grant_type: 'client_credentials',
    });
    await own.close();
  });

  it('refreshes an expiring offline token, returning the rotated refresh token (the old one retires on its use)', async () => {
    const original = shop.issueRefreshToken();
    const refresh = (refreshToken: string): TokenRequest => ({
      ...request(),
      grant: { type: 'refresh_token', refreshToken: secret(refreshToken) },
    });
    const first = await engine.getToken(refresh(original));
    expect(first.expiresAt).toBe(first.issuedAt + 3_600_000);
    const rotated = first.refreshToken?.reveal() ?? '';
    expect(rotated).toMatch(/^shprt_/);
    expect(shop.bodies().at(-1)).toMatchObject({ grant_type: 'refresh_token', refresh_token: original });
    // Shopify keeps the used token until its replacement is used.
    expect(shop.isActive(original)).toBe(true);
    const other = localEngine(shop.caPem);
    await other.getToken(refresh(rotated));
    expect(shop.isActive(original)).toBe(false);
    const error = await rejection(localEngine(shop.caPem).getToken(refresh(original)));
    expect(error).toMatchObject({ code: 'reauthorization_required', retryable: false });
    await other.close();
  });

  it('derives the endpoint from the shop when no tokenEndpoint is set', async () => {
    const resolved = await engine.resolveClient({ ...request().client, tokenEndpoint: undefined }, 'shopify');
    expect(resolved.tokenEndpoint).toBe('https://acme.myshopify.com/admin/oauth/access_token');
  });
});

describe('Zendesk (/oauth/tokens, JSON body, rotation that invalidates the old pair)', () => {
  let zendesk: LocalZendeskServer;
  let engine: TokenEngine;
  beforeAll(async () => {
    zendesk = await startLocalZendeskServer({
      clientId: 'coffre',
      clientSecret: 'zendesk-secret',
      allowedScopes: ['read', 'tickets:read', 'users:read'],
      ca: authority.ca,
    });
    engine = localEngine(zendesk.caPem);
  });
  afterAll(async () => {
    await engine.close();
    await zendesk.stop();
  });

  const client = (clientSecret = 'zendesk-secret'): ClientConfig => ({
    issuer: zendesk.baseUrl,
    tokenEndpoint: zendesk.tokenEndpoint,
    authMethod: 'client_secret_post',
    clientId: 'coffre',
    clientSecret: secret(clientSecret),
  });
  const credentials = (extra: Partial<TokenRequest> = {}): TokenRequest => ({
    client: client(),
    grant: { type: 'client_credentials' },
    flavour: 'zendesk',
    ...extra,
  });

  it('mints with client credentials in a JSON body, sending the scopes space separated and expires_in', async () => {
    const token = await engine.getToken(
      credentials({ scopes: ['tickets:read', 'users:read'], expiresInSeconds: 600 }),
    );
    expect(zendesk.bodies().at(-1)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'coffre',
      client_secret: 'zendesk-secret',
      scope: 'tickets:read users:read',
      expires_in: 600,
    });
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt).toBe(token.issuedAt + 600_000);
    expect(token.grantedScopes).toEqual(['tickets:read', 'users:read']);
  });

  it('refreshes, returning the new refresh token; the old pair is dead at once', async () => {
    const original = zendesk.issueRefreshToken();
    const first = await engine.getToken(
      credentials({ grant: { type: 'refresh_token', refreshToken: secret(original) } }),
    );
    const rotated = first.refreshToken?.reveal() ?? '';
    expect(zendesk.isActive(original)).toBe(false);
    expect(zendesk.isActive(rotated)).toBe(true);
    // Another engine (this one would answer from its cache: it knows what the rotation gave).
    const other = localEngine(zendesk.caPem);
    const second = await other.getToken(
      credentials({ grant: { type: 'refresh_token', refreshToken: secret(rotated) } }),
    );
    await other.close();
    expect(zendesk.isAccessTokenActive(first.accessToken.reveal())).toBe(false);
    expect(zendesk.isAccessTokenActive(second.accessToken.reveal())).toBe(true);
  });

  it("maps Zendesk's 401 invalid_client to invalid_client, naming Zendesk's code and not its description", async () => {
    const error = await rejection(engine.getToken({ ...credentials(), client: client('wrong') }));
    expect(error).toMatchObject({
      code: 'invalid_client',
      retryable: false,
      status: 401,
      serverError: 'invalid_client',
    });
    expect(error.message).toContain('HTTP 401, invalid_client');
    expect(error.message).not.toContain('Client authentication failed');
  });

  it('maps a used refresh token (400 invalid_grant) to reauthorization_required', async () => {
    const used = zendesk.issueRefreshToken();
    await engine.getToken(credentials({ grant: { type: 'refresh_token', refreshToken: secret(used) } }));
    const error = await rejection(
      localEngine(zendesk.caPem).getToken(
        credentials({ grant: { type: 'refresh_token', refreshToken: secret(used) } }),
      ),
    );
    expect(error).toMatchObject({
      code: 'reauthorization_required',
      retryable: false,
      serverError: 'invalid_grant',
    });
  });

  it('maps a scope the client may not have (400 invalid_scope) to invalid_scope', async () => {
    const error = await rejection(engine.getToken(credentials({ scopes: ['write'] })));
    expect(error).toMatchObject({ code: 'invalid_scope', retryable: false, status: 400 });
  });

  it('maps 403 Forbidden to unauthorized_client (terminal) and 429 to rate_limited with Retry-After', async () => {
    const own = localEngine(zendesk.caPem);
    zendesk.failNext(ZENDESK_FAILURES.forbidden);
    expect(await rejection(own.getToken(credentials({ scopes: ['read'] })))).toMatchObject({
      code: 'unauthorized_client',
      retryable: false,
      status: 403,
    });
    zendesk.failNext(ZENDESK_FAILURES.rateLimited(30));
    expect(await rejection(own.getToken(credentials({ scopes: ['read'] })))).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 30_000,
    });
    await own.close();
  });
});

describe('Twilio (OAuth apps: /v2/token, form encoded, client credentials)', () => {
  let twilio: LocalTwilioServer;
  let engine: TokenEngine;
  beforeAll(async () => {
    twilio = await startLocalTwilioServer({
      clientId: 'OQ1',
      clientSecret: 'twilio-secret',
      ca: authority.ca,
    });
    engine = localEngine(twilio.caPem);
  });
  afterAll(async () => {
    await engine.close();
    await twilio.stop();
  });

  const request = (clientSecret = 'twilio-secret'): TokenRequest => ({
    client: {
      issuer: twilio.baseUrl,
      tokenEndpoint: twilio.tokenEndpoint,
      authMethod: 'client_secret_post',
      clientId: 'OQ1',
      clientSecret: secret(clientSecret),
    },
    grant: { type: 'client_credentials' },
    flavour: 'twilio',
  });

  it('gets a Bearer token of 3,600 s despite the null refresh_token and id_token', async () => {
    const token = await engine.getToken(request());
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt).toBe(token.issuedAt + 3_600_000);
    expect(token.refreshToken).toBeUndefined();
    expect(twilio.isActive(token.accessToken.reveal())).toBe(true);
  });

  it("maps Twilio's 401 (error 20003) to invalid_client, naming Twilio's code and not its message", async () => {
    const error = await rejection(engine.getToken(request('wrong')));
    expect(error).toMatchObject({ code: 'invalid_client', retryable: false, status: 401 });
    expect(error.message).toContain('HTTP 401, Twilio error 20003');
    expect(error.message).not.toContain('Authentication Error');
  });

  it('maps 429 (error 20429) with Retry-After to rate_limited', async () => {
    const own = localEngine(twilio.caPem);
    twilio.failNext({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '12' } });
    const error = await rejection(own.getToken(request()));
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 12_000 });
    expect(error.message).toContain('Twilio error 20429');
    await own.close();
  });

  it('refuses the refresh_token grant as a configuration error', async () => {
    const error = await rejection(
      engine.getToken({ ...request(), grant: { type: 'refresh_token', refreshToken: secret('r') } }),
    );
    expect(error.code).toBe('invalid_configuration');
  });
});

describe("Auth0's error shapes, through openid-client", () => {
  let auth0: LocalHttpsServer;
  let engine: TokenEngine;
  let answer: { status: number; body: unknown } = { status: 401, body: {} };
  beforeAll(async () => {
    auth0 = await startLocalHttpsServer({
      ca: authority.ca,
      handler: (_req, res) => {
        sendJson(res, answer.status, answer.body);
      },
    });
    engine = localEngine(auth0.caPem);
  });
  afterAll(async () => {
    await engine.close();
    await auth0.stop();
  });

  const request = (): TokenRequest => ({
    client: {
      issuer: `${auth0.url}/`,
      tokenEndpoint: `${auth0.url}/oauth/token`,
      authMethod: 'client_secret_post',
      clientId: 'm2m',
      clientSecret: secret('wrong'),
    },
    grant: { type: 'client_credentials' },
    audience: `${auth0.url}/api/v2/`,
  });

  it.each([
    ['a wrong client secret (401 access_denied, "Unauthorized")', 401, 'invalid_client', 'Unauthorized'],
    [
      'a client without a grant for the API (403 access_denied)',
      403,
      'unauthorized_client',
      'Client is not authorized to access',
    ],
  ])("maps %s to a terminal code naming Auth0's error", async (_title, status, code, description) => {
    answer = { status, body: { error: 'access_denied', error_description: `${description} (m2m)` } };
    const error = await rejection(localEngine(auth0.caPem).getToken(request()));
    expect(error).toMatchObject({ code, retryable: false, status, serverError: 'access_denied' });
    expect(error.message).toContain(`HTTP ${String(status)}, access_denied`);
    expect(error.message).not.toContain(description);
  });
});
