// The engine against a real OAuth 2.0 / OIDC server (oidc-provider 9 over HTTPS on 127.0.0.1).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.ts';
import type { ClientConfig, TokenEngine, TokenRequest, TokenRequestEvent } from '../../src/oauth/index.ts';
import { secret } from '../../src/secrets/secret-value.ts';
import {
  generateClientKey,
  startLocalOAuthServer,
  type LocalOAuthServer,
} from '../../tools/local-oauth-server.ts';
import { localEngine, rejection } from './support/engine.ts';
import { useCertificateAuthority } from './support/servers.ts';

const authority = useCertificateAuthority();
const API = 'https://api.example/';

let server: LocalOAuthServer;
let key: Awaited<ReturnType<typeof generateClientKey>>;
let engine: TokenEngine;
const events: TokenRequestEvent[] = [];

beforeAll(async () => {
  key = await generateClientKey('key-1');
  server = await startLocalOAuthServer({
    ca: authority.ca,
    clients: [
      { clientId: 'post-client', authMethod: 'client_secret_post', clientSecret: 'post-secret' },
      { clientId: 'basic-client', authMethod: 'client_secret_basic', clientSecret: 'basic:secret/+' },
      { clientId: 'jwt-client', authMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } },
    ],
    resourceServers: { [API]: { scope: 'read:users create:users' } },
    accessTokenTtlSeconds: 2,
  });
  engine = localEngine(server.caPem, {
    observer: {
      tokenRequest: (event) => events.push(event),
    },
  });
});

afterAll(async () => {
  await engine.close();
  await server.stop();
});

const postClient = (): ClientConfig => ({
  issuer: server.issuer,
  authMethod: 'client_secret_post',
  clientId: 'post-client',
  clientSecret: secret('post-secret'),
});

const clients = (): Record<string, ClientConfig> => ({
  client_secret_post: postClient(),
  client_secret_basic: {
    issuer: server.issuer,
    authMethod: 'client_secret_basic',
    clientId: 'basic-client',
    clientSecret: secret('basic:secret/+'),
  },
  private_key_jwt: {
    issuer: server.issuer,
    authMethod: 'private_key_jwt',
    clientId: 'jwt-client',
    privateKey: { pem: secret(key.privateKeyPem), keyId: 'key-1' },
  },
});

describe('discovery', () => {
  it('finds the token and revocation endpoints through OpenID Connect discovery, once per TTL', async () => {
    const clock = new FakeClock();
    const own = localEngine(server.caPem, { clock });
    const before = server.requests('/.well-known/openid-configuration');
    const resolved = await own.resolveClient(postClient());
    expect(resolved).toEqual({
      tokenEndpoint: server.tokenEndpoint,
      revocationEndpoint: server.revocationEndpoint,
      authMethod: 'client_secret_post',
      warnings: [],
    });
    await own.resolveClient(postClient());
    expect(server.requests('/.well-known/openid-configuration')).toBe(before + 1);
    await clock.advance(60 * 60 * 1000 + 1);
    await own.resolveClient(postClient());
    expect(server.requests('/.well-known/openid-configuration')).toBe(before + 2);
    await own.close();
  });

  it('falls back to RFC 8414 metadata when there is no OpenID configuration', async () => {
    const oauth2 = await startLocalOAuthServer({
      ca: authority.ca,
      discovery: 'oauth2',
      clients: [{ clientId: 'c', authMethod: 'client_secret_post', clientSecret: 's' }],
    });
    const own = localEngine(oauth2.caPem);
    try {
      const client: ClientConfig = {
        issuer: oauth2.issuer,
        authMethod: 'client_secret_post',
        clientId: 'c',
        clientSecret: secret('s'),
      };
      expect((await own.resolveClient(client)).tokenEndpoint).toBe(oauth2.tokenEndpoint);
      expect(oauth2.requests('/.well-known/openid-configuration')).toBe(1);
      expect(oauth2.requests('/.well-known/oauth-authorization-server')).toBe(1);
      const token = await own.getToken({ client, grant: { type: 'client_credentials' } });
      expect(token.tokenType).toBe('Bearer');
    } finally {
      await own.close();
      await oauth2.stop();
    }
  });

  it('uses a static token endpoint without any discovery request', async () => {
    const bare = await startLocalOAuthServer({
      ca: authority.ca,
      discovery: 'none',
      clients: [{ clientId: 'c', authMethod: 'client_secret_basic', clientSecret: 's' }],
    });
    const own = localEngine(bare.caPem);
    try {
      const client: ClientConfig = {
        issuer: bare.issuer,
        tokenEndpoint: bare.tokenEndpoint,
        authMethod: 'client_secret_basic',
        clientId: 'c',
        clientSecret: secret('s'),
      };
      expect(await own.resolveClient(client)).toEqual({
        tokenEndpoint: bare.tokenEndpoint,
        authMethod: 'client_secret_basic',
        warnings: [],
      });
      await own.getToken({ client, grant: { type: 'client_credentials' } });
      expect(bare.requests('/.well-known/openid-configuration')).toBe(0);
      expect(bare.tokenRequests('client_credentials')).toBe(1);
      // Without discovery there is no revocation endpoint to use, unless one is configured.
      expect(await own.revoke(client, secret('whatever'))).toBe(false);
      const withRevocation = { ...client, revocationEndpoint: bare.revocationEndpoint };
      expect((await own.resolveClient(withRevocation)).revocationEndpoint).toBe(bare.revocationEndpoint);
      const minted = await own.getToken({ client: withRevocation, grant: { type: 'client_credentials' } });
      expect(await bare.isActive(minted.accessToken.reveal())).toBe(true);
      expect(await own.revoke(withRevocation, minted.accessToken)).toBe(true);
      expect(await bare.isActive(minted.accessToken.reveal())).toBe(false);
      expect(bare.requests('/.well-known/openid-configuration')).toBe(0);

      const error = await rejection(own.resolveClient({ ...client, tokenEndpoint: undefined }));
      expect(error.code).toBe('discovery_failed');
      expect(error.retryable).toBe(true);
    } finally {
      await own.close();
      await bare.stop();
    }
  });
});

describe('client_credentials', () => {
  it.each(['client_secret_post', 'client_secret_basic', 'private_key_jwt'])(
    'gets a JWT for the audience with %s',
    async (method) => {
      const client = clients()[method] as ClientConfig;
      const before = server.tokenRequests('client_credentials');
      const token = await engine.getToken({
        client,
        grant: { type: 'client_credentials' },
        audience: API,
        scopes: ['read:users'],
      });
      expect(server.tokenRequests('client_credentials')).toBe(before + 1);
      expect(token.tokenType).toBe('Bearer');
      expect(token.grantedScopes).toEqual(['read:users']);
      expect(token.refreshToken).toBeUndefined();
      const claims = decodeJwt(token.accessToken.reveal());
      // expires_in (2 s from the send time), or the JWT's whole-second exp when that is earlier.
      expect(token.expiresAt).toBe(Math.min(token.issuedAt + 2_000, (claims.exp ?? 0) * 1000));
      expect(claims.aud).toBe(API);
      expect(claims.client_id).toBe(client.clientId);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(2);
    },
  );

  it('accepts the resource server as an RFC 8707 resource too', async () => {
    const token = await engine.getToken({
      client: postClient(),
      grant: { type: 'client_credentials' },
      resource: [API],
      scopes: ['create:users'],
    });
    expect(decodeJwt(token.accessToken.reveal()).aud).toBe(API);
    expect(token.grantedScopes).toEqual(['create:users']);
  });

  it('reads the expiry from the JWT when the server sends no expires_in', async () => {
    server.tweaks.omitExpiresIn = true;
    try {
      const token = await engine.getToken({
        client: postClient(),
        grant: { type: 'client_credentials' },
        audience: API,
        scopes: ['create:users', 'read:users'],
      });
      expect(token.expiresAt).toBe(token.issuedAt + 2_000);
    } finally {
      server.tweaks.omitExpiresIn = false;
    }
  });

  it('mints a new token once the 2-second token has expired, and not before', async () => {
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      audience: API,
      scopes: ['read:users', 'create:users'],
    };
    const first = await engine.getToken(request);
    const before = server.tokenRequests('client_credentials');
    expect(await engine.getToken(request)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, (first.expiresAt ?? 0) - Date.now() + 50));
    const second = await engine.getToken(request);
    expect(second.accessToken.equals(first.accessToken)).toBe(false);
    expect(server.tokenRequests('client_credentials')).toBe(before + 1);
  });

  it('refuses a wrong client secret as invalid_client, terminal', async () => {
    const error = await rejection(
      engine.getToken({
        client: { ...postClient(), clientSecret: secret('wrong') },
        grant: { type: 'client_credentials' },
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_client', retryable: false, status: 401 });
  });

  it('refuses an assertion signed by another key as invalid_client', async () => {
    const other = await generateClientKey();
    const client: ClientConfig = {
      issuer: server.issuer,
      authMethod: 'private_key_jwt',
      clientId: 'jwt-client',
      privateKey: { pem: secret(other.privateKeyPem) },
    };
    expect((await rejection(engine.getToken({ client, grant: { type: 'client_credentials' } }))).code).toBe(
      'invalid_client',
    );
  });

  it('refuses an unknown audience as invalid_target, terminal', async () => {
    const error = await rejection(
      engine.getToken({
        client: postClient(),
        grant: { type: 'client_credentials' },
        audience: 'https://unknown.example/',
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_target', retryable: false });
  });

  it('refuses an unparsable private key as invalid_configuration, naming the field only', async () => {
    const client: ClientConfig = {
      issuer: server.issuer,
      authMethod: 'private_key_jwt',
      clientId: 'jwt-client',
      privateKey: { pem: secret('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----') },
    };
    const error = await rejection(engine.resolveClient(client));
    expect(error).toMatchObject({
      code: 'invalid_configuration',
      retryable: false,
      message: 'privateKey is not a PEM private key',
    });
  });
});

describe('sharing', () => {
  it('serves 100 concurrent callers with exactly one token request', async () => {
    let hits = 0;
    const own = localEngine(server.caPem, { observer: { cacheHit: () => (hits += 1) } });
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      audience: API,
      scopes: ['read:users'],
    };
    const before = server.tokenRequests('client_credentials');
    const tokens = await Promise.all(Array.from({ length: 100 }, () => own.getToken(request)));
    expect(server.tokenRequests('client_credentials')).toBe(before + 1);
    expect(new Set(tokens).size).toBe(1);
    expect(hits).toBe(99);
    await own.close();
  });

  it('makes a new request when the client secret rotates', async () => {
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      scopes: ['openid'],
    };
    await engine.getToken(request);
    const before = server.tokenRequests('client_credentials');
    const rotated = { ...request, client: { ...postClient(), clientSecret: secret('post-secret-rotated') } };
    // The server does not know the new secret: the point is that the old token is not handed out.
    expect((await rejection(engine.getToken(rotated))).code).toBe('invalid_client');
    expect(server.tokenRequests('client_credentials')).toBe(before + 1);
  });

  it('serves a seeded token (read back from its Secret) without a request', async () => {
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      audience: API,
      scopes: ['create:users'],
    };
    const seeded = {
      accessToken: secret('from-the-secret'),
      tokenType: 'Bearer',
      issuedAt: Date.now(),
      expiresAt: Date.now() + 60_000,
    };
    const fresh = localEngine(server.caPem);
    fresh.seed(request, seeded);
    const before = server.tokenRequests();
    expect(await fresh.getToken(request)).toBe(seeded);
    expect(server.tokenRequests()).toBe(before);
    await fresh.close();
  });

  it('reports network failures while the server is away, and recovers when it is back', async () => {
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      scopes: ['profile'],
    };
    const own = localEngine(server.caPem);
    try {
      await server.unavailable();
      expect(await rejection(own.getToken(request))).toMatchObject({ code: 'network', retryable: true });
      await server.available();
      expect((await own.getToken(request)).tokenType).toBe('Bearer');
    } finally {
      await server.available();
      await own.close();
    }
  });

  it('tells the observer about each request, by host and outcome', () => {
    const host = new URL(server.issuer).host;
    expect(
      events.some(
        (e) => e.host === host && e.outcome === 'success' && e.sent && e.grant === 'client_credentials',
      ),
    ).toBe(true);
    expect(events.some((e) => e.host === host && e.outcome === 'invalid_client')).toBe(true);
  });
});

describe('refresh_token with rotation', () => {
  it('returns the rotated refresh token; the old one is then dead', async () => {
    const original = await server.issueRefreshToken('post-client');
    const token = await engine.getToken({
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(original) },
    });
    expect(token.refreshToken).toBeDefined();
    const rotated = token.refreshToken?.reveal() ?? '';
    expect(rotated).not.toBe(original);
    expect(await server.isActive(original)).toBe(false);
    expect(await server.isActive(rotated)).toBe(true);

    // A caller still holding the old refresh token gets the shared result (with the new refresh token)
    // instead of replaying the old one.
    const before = server.tokenRequests('refresh_token');
    const again = await engine.getToken({
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(original) },
    });
    expect(again.refreshToken?.reveal()).toBe(rotated);
    expect(server.tokenRequests('refresh_token')).toBe(before);

    // The holder of the new refresh token shares the same result; forced, it rotates again.
    const rotatedRequest: TokenRequest = {
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(rotated) },
    };
    expect(await engine.getToken(rotatedRequest)).toBe(token);
    const next = await engine.getToken(rotatedRequest, { force: true });
    expect(next.refreshToken?.reveal()).not.toBe(rotated);
    expect(server.tokenRequests('refresh_token')).toBe(before + 1);
  });

  it('answers a reused (rotated) refresh token with reauthorization_required, terminal, with one request', async () => {
    const original = await server.issueRefreshToken('post-client');
    await engine.getToken({
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(original) },
    });
    const elsewhere = localEngine(server.caPem); // e.g. a restarted operator that lost the rotation
    const before = server.tokenRequests('refresh_token');
    const error = await rejection(
      elsewhere.getToken({
        client: postClient(),
        grant: { type: 'refresh_token', refreshToken: secret(original) },
      }),
    );
    expect(error).toMatchObject({
      code: 'reauthorization_required',
      retryable: false,
      status: 400,
      serverError: 'invalid_grant',
    });
    expect(server.tokenRequests('refresh_token')).toBe(before + 1);
    // Terminal means terminal: asking again does not reach the server.
    expect(
      (
        await rejection(
          elsewhere.getToken({
            client: postClient(),
            grant: { type: 'refresh_token', refreshToken: secret(original) },
          }),
        )
      ).code,
    ).toBe('reauthorization_required');
    expect(server.tokenRequests('refresh_token')).toBe(before + 1);
    await elsewhere.close();
  });

  it('never replays a rotated refresh token, even after its access token expired', async () => {
    const clock = new FakeClock(Date.now());
    const own = localEngine(server.caPem, { clock });
    const original = await server.issueRefreshToken('post-client');
    const first = await own.getToken({
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(original) },
    });
    await clock.advance((first.expiresAt ?? 0) - clock.now() + 1);
    // The caller failed to persist the rotated token and asks with the old one again.
    const second = await own.getToken({
      client: postClient(),
      grant: { type: 'refresh_token', refreshToken: secret(original) },
    });
    expect(second.accessToken.equals(first.accessToken)).toBe(false);
    expect(second.refreshToken?.equals(first.refreshToken)).toBe(false);
    expect(await server.isActive(second.refreshToken?.reveal() ?? '')).toBe(true);
    await own.close();
  });
});

describe('revocation', () => {
  it('revokes an access token at the advertised endpoint and forgets it', async () => {
    const request: TokenRequest = {
      client: postClient(),
      grant: { type: 'client_credentials' },
      scopes: ['email'],
    };
    const token = await engine.getToken(request);
    expect(await server.isActive(token.accessToken.reveal())).toBe(true);
    expect(await engine.revoke(postClient(), token.accessToken)).toBe(true);
    expect(await server.isActive(token.accessToken.reveal())).toBe(false);
    const next = await engine.getToken(request);
    expect(next.accessToken.equals(token.accessToken)).toBe(false);
  });

  it('revokes a refresh token, after which it needs reauthorization', async () => {
    const refreshToken = await server.issueRefreshToken('post-client');
    expect(await engine.revoke(postClient(), secret(refreshToken), 'refresh_token')).toBe(true);
    expect(await server.isActive(refreshToken)).toBe(false);
    const error = await rejection(
      engine.getToken({
        client: postClient(),
        grant: { type: 'refresh_token', refreshToken: secret(refreshToken) },
      }),
    );
    expect(error.code).toBe('reauthorization_required');
  });
});
