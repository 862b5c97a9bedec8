// Token and metadata endpoints that misbehave: each answer maps to one OAuthError code, retryable or
// terminal, with Retry-After honoured. The engine runs on a fake clock (HTTP-dates, reset epochs).
import type { ServerResponse } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.ts';
import type { ClientConfig, TokenRequest } from '../../src/oauth/index.ts';
import { secret } from '../../src/secrets/secret-value.ts';
import { readBody, sendJson, type LocalHttpsServer } from '../../tools/local-https-server.ts';
import { localEngine, rejection } from './support/engine.ts';
import { useCertificateAuthority, useHttpsServers } from './support/servers.ts';

const authority = useCertificateAuthority();
const startServer = useHttpsServers(authority);
const start = Date.parse('2026-11-22T12:00:00Z');

type Route = (res: ServerResponse, url: string) => void;

const routes: Record<string, Route> = {
  '/invalid-json': (res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token": "abc"'),
  '/html': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'),
  '/no-access-token': (res) => {
    sendJson(res, 200, { token_type: 'Bearer', expires_in: 60 });
  },
  '/mac-token': (res) => {
    sendJson(res, 200, { access_token: 'x', token_type: 'mac', expires_in: 60 });
  },
  '/429-seconds': (res) => {
    sendJson(res, 429, { error: 'too_many_requests' }, { 'retry-after': '30' });
  },
  '/429-date': (res) =>
    res.writeHead(429, { 'retry-after': 'Sun, 22 Nov 2026 12:02:00 GMT' }).end('slow down'),
  '/429-reset-epoch': (res) => res.writeHead(429, { 'x-ratelimit-reset': String(start / 1000 + 45) }).end(),
  '/429-reset-delta': (res) => res.writeHead(429, { 'x-ratelimit-reset': '12' }).end(),
  '/500': (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('stack trace here'),
  '/503': (res) => {
    sendJson(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '20' });
  },
  '/401-challenge': (res) =>
    res.writeHead(401, { 'www-authenticate': 'Basic realm="token", error="invalid_client"' }).end(),
  '/400-invalid-grant': (res) => {
    sendJson(res, 400, { error: 'invalid_grant', error_description: 'nope' });
  },
  '/400-invalid-request': (res) => {
    sendJson(res, 400, { error: 'invalid_request' });
  },
  '/403-plain': (res) => res.writeHead(403).end('forbidden'),
  '/tenant-ssrf/.well-known/openid-configuration': (res, url) => {
    sendJson(res, 200, { issuer: `${url}/tenant-ssrf`, token_endpoint: 'https://169.254.169.254/token' });
  },
  '/tenant-basic-only/.well-known/openid-configuration': (res, url) => {
    sendJson(res, 200, {
      issuer: `${url}/tenant-basic-only`,
      token_endpoint: `${url}/tenant-basic-only/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    });
  },
  '/tenant-mismatch/.well-known/openid-configuration': (res) => {
    sendJson(res, 200, { issuer: 'https://evil.example/', token_endpoint: 'https://evil.example/token' });
  },
  '/tenant-redirect/.well-known/openid-configuration': (res) =>
    res.writeHead(301, { location: 'http://169.254.169.254/' }).end(),
};

let server: LocalHttpsServer;
beforeAll(async () => {
  server = await startServer(async (req, res) => {
    await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (route === undefined) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    route(res, server.url);
  });
});

const client = (tokenPath?: string, overrides: Partial<ClientConfig> = {}): ClientConfig => ({
  issuer: server.url,
  ...(tokenPath === undefined ? {} : { tokenEndpoint: `${server.url}${tokenPath}` }),
  authMethod: 'client_secret_post',
  clientId: 'c',
  clientSecret: secret('s'),
  ...overrides,
});
const request = (tokenPath: string): TokenRequest => ({
  client: client(tokenPath),
  grant: { type: 'client_credentials' },
});

async function failureOf(tokenPath: string) {
  const engine = localEngine(server.caPem, { clock: new FakeClock(start) });
  try {
    return await rejection(engine.getToken(request(tokenPath)));
  } finally {
    await engine.close();
  }
}

describe('a token endpoint that misbehaves', () => {
  it.each<[string, string, boolean, number | undefined]>([
    ['/invalid-json', 'invalid_response', true, undefined],
    ['/html', 'invalid_response', true, undefined],
    ['/no-access-token', 'invalid_response', true, undefined],
    ['/mac-token', 'invalid_response', true, undefined],
    ['/429-seconds', 'rate_limited', true, 30_000],
    ['/429-date', 'rate_limited', true, 120_000],
    ['/429-reset-epoch', 'rate_limited', true, 45_000],
    ['/429-reset-delta', 'rate_limited', true, 12_000],
    ['/500', 'server_error', true, undefined],
    ['/503', 'server_error', true, 20_000],
    ['/401-challenge', 'invalid_client', false, undefined],
    ['/400-invalid-grant', 'invalid_grant', false, undefined],
    ['/400-invalid-request', 'oauth_error', true, undefined],
    ['/403-plain', 'invalid_response', true, undefined],
  ])('%s → %s (retryable: %s, retry after %s ms)', async (path, code, retryable, retryAfterMs) => {
    const error = await failureOf(path);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.retryAfterMs).toBe(retryAfterMs);
  });

  it('holds the host after a 429 until Retry-After has passed', async () => {
    const clock = new FakeClock(start);
    const engine = localEngine(server.caPem, { clock });
    await rejection(engine.getToken(request('/429-seconds')));
    const before = server.requests('/500');
    const held = await rejection(engine.getToken(request('/500')));
    expect(held).toMatchObject({ code: 'rate_limited', retryAfterMs: 30_000 });
    expect(server.requests('/500')).toBe(before);
    await clock.advance(30_000);
    expect((await rejection(engine.getToken(request('/500')))).code).toBe('server_error');
    expect(server.requests('/500')).toBe(before + 1);
    await engine.close();
  });

  it('does not retry by itself: one failure, one request', async () => {
    const before = server.requests('/500');
    await failureOf('/500');
    expect(server.requests('/500')).toBe(before + 1);
  });
});

describe('metadata that misbehaves', () => {
  const discovered = (tenant: string, overrides: Partial<ClientConfig> = {}) => ({
    client: client(undefined, { issuer: `${server.url}/${tenant}`, ...overrides }),
    grant: { type: 'client_credentials' as const },
  });

  it('refuses a discovered token endpoint in a refused range (SSRF through metadata)', async () => {
    const engine = localEngine(server.caPem);
    const error = await rejection(engine.getToken(discovered('tenant-ssrf')));
    expect(error).toMatchObject({ code: 'endpoint_refused', retryable: false });
    expect(error.message).toMatch(/^refused 169\.254\.169\.254: it is a cloud metadata endpoint \(/);
    await engine.close();
  });

  it('warns when the server does not list the configured auth method', async () => {
    const engine = localEngine(server.caPem);
    const resolved = await engine.resolveClient(discovered('tenant-basic-only').client);
    expect(resolved.warnings).toEqual([
      'the server does not list client_secret_post in token_endpoint_auth_methods_supported (it lists client_secret_basic)',
    ]);
    await engine.close();
  });

  it('fails discovery when the metadata names another issuer', async () => {
    const engine = localEngine(server.caPem);
    const error = await rejection(engine.resolveClient(discovered('tenant-mismatch').client));
    expect(error).toMatchObject({ code: 'discovery_failed', retryable: true });
    expect(error.message).not.toContain('evil.example');
    await engine.close();
  });

  it('does not follow a redirect of the metadata document', async () => {
    const engine = localEngine(server.caPem);
    expect((await rejection(engine.resolveClient(discovered('tenant-redirect').client))).code).toBe(
      'redirect_refused',
    );
    await engine.close();
  });
});
