// Planted secrets (client secret, refresh token, private key, the access tokens and assertions a
// server sees) must never reach an error — message, String(), JSON, util.inspect, cause chain, stack —
// nor a log line, on the success path or any failure path, even when the server echoes everything it
// received into its error fields, headers and bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenAdaptersOf } from '../../src/connection-types/registry.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  createTokenEngine,
  type ClientConfig,
  type TokenEngine,
  type TokenRequest,
} from '../../src/oauth/index.ts';
import { secret } from '../../src/secrets/secret-value.ts';
import { readBody, sendJson, type LocalHttpsServer } from '../../tools/local-https-server.ts';
import { generateClientKey } from '../../tools/local-oauth-server.ts';
import { useCertificateAuthority, useHttpsServers } from './support/servers.ts';

const authority = useCertificateAuthority();
const startServer = useHttpsServers(authority);

const CLIENT_SECRET = 'CANARY-client-secret-7f3a9c';
const REFRESH_TOKEN = 'CANARY-refresh-token-91bc04';
const ACCESS_TOKEN = 'CANARY-access-token-55de18';
const ROTATED_REFRESH_TOKEN = 'CANARY-rotated-refresh-d2e7a1';

/** Everything secret: planted values and whatever the server received (assertions, headers). */
const secrets = new Set([CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN, ROTATED_REFRESH_TOKEN]);
let privateKeyBody = '';

const logLines: string[] = [];
let engine: TokenEngine;
let makeEngine: () => TokenEngine;
let server: LocalHttpsServer;

/** What the server received, echoed back in every way a careless or hostile server might. */
function echo(req: IncomingMessage, body: string): string {
  const authorization = req.headers.authorization ?? '';
  const basic = authorization.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString('utf8')
    : '';
  const fields = new URLSearchParams(body);
  const assertion = fields.get('client_assertion');
  if (assertion !== null) secrets.add(assertion);
  return `${body} ${authorization} ${basic}`;
}

const routes: Record<string, (res: ServerResponse, echoed: string) => void> = {
  '/success': (res) => {
    sendJson(res, 200, {
      access_token: ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: 60,
      refresh_token: ROTATED_REFRESH_TOKEN,
      scope: 'read',
    });
  },
  '/400': (res, echoed) => {
    sendJson(res, 400, { error: echoed, error_description: echoed, error_uri: echoed });
  },
  '/400-known': (res, echoed) => {
    sendJson(res, 400, { error: 'invalid_grant', error_description: echoed });
  },
  '/401': (res, echoed) => {
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer error="invalid_client", error_description="${encodeURIComponent(echoed)}"`,
    });
    res.end(JSON.stringify({ error: 'invalid_client', error_description: echoed }));
  },
  '/429': (res, echoed) => {
    sendJson(res, 429, { error: echoed }, { 'retry-after': encodeURIComponent(echoed) });
  },
  '/500': (res, echoed) => res.writeHead(500, { 'content-type': 'text/plain' }).end(echoed),
  '/200-no-token': (res, echoed) => {
    sendJson(res, 200, { token_type: 'Bearer', note: echoed });
  },
  '/200-bad-json': (res, echoed) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{${echoed}`),
  '/200-token-type': (res, echoed) => {
    sendJson(res, 200, { access_token: ACCESS_TOKEN, token_type: echoed.slice(0, 60) });
  },
  '/302': (res, echoed) =>
    res.writeHead(302, { location: `https://example.com/?leak=${encodeURIComponent(echoed)}` }).end(),
  '/big': (res, echoed) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(echoed);
    res.end(Buffer.alloc(2 * 1024 * 1024, 0x61));
  },
  '/stall': (res, echoed) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`{"access_token":"${echoed}`);
  },
  '/slack': (res, echoed) => {
    sendJson(res, 200, { ok: false, error: echoed, warning: echoed });
  },
  '/slack-known': (res, echoed) => {
    sendJson(res, 200, { ok: false, error: 'invalid_refresh_token', detail: echoed });
  },
  '/slack-ok': (res) => {
    sendJson(res, 200, {
      ok: true,
      access_token: ACCESS_TOKEN,
      token_type: 'bot',
      expires_in: 60,
      refresh_token: ROTATED_REFRESH_TOKEN,
    });
  },
  '/shopify': (res, echoed) => {
    sendJson(res, 401, { error: echoed, errors: echoed });
  },
  '/mismatch/.well-known/openid-configuration': (res) => {
    sendJson(res, 200, {
      issuer: `https://${CLIENT_SECRET}.example/`,
      token_endpoint: `https://${CLIENT_SECRET}.example/t`,
    });
  },
  '/methods/.well-known/openid-configuration': (res) => {
    sendJson(res, 200, {
      issuer: `${server.url}/methods`,
      token_endpoint: `${server.url}/400`,
      revocation_endpoint: `${server.url}/400`,
      token_endpoint_auth_methods_supported: [CLIENT_SECRET, 'client_secret_basic'],
    });
  },
};

beforeAll(async () => {
  const key = await generateClientKey('canary-key');
  privateKeyBody = key.privateKeyPem.split('\n').slice(1, -2).join('');
  secrets.add(privateKeyBody);
  server = await startServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (route === undefined) sendJson(res, 404, { error: echo(req, body) });
    else route(res, echo(req, body));
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level: 'trace', pretty: false, destination });
  // A fresh engine per case: a 429 in one case must not hold the host for the next.
  makeEngine = () =>
    createTokenEngine({
      fetch: {
        allowedCIDRs: ['127.0.0.1/32'],
        ca: server.caPem,
        totalTimeoutMs: 300,
        maxResponseBytes: 64 * 1024,
      },
      logger,
      adapters: tokenAdaptersOf(),
    });
  engine = makeEngine();
  Object.assign(keyHolder, key);
});

afterAll(async () => {
  await engine.close();
});

const keyHolder: Partial<Awaited<ReturnType<typeof generateClientKey>>> = {};

function client(path: string, authMethod: ClientConfig['authMethod'] = 'client_secret_post'): ClientConfig {
  return {
    issuer: server.url,
    tokenEndpoint: `${server.url}${path}`,
    authMethod,
    clientId: 'canary-client',
    ...(authMethod === 'private_key_jwt'
      ? { privateKey: { pem: secret(keyHolder.privateKeyPem ?? ''), keyId: 'canary-key' } }
      : { clientSecret: secret(CLIENT_SECRET) }),
  };
}

const refresh = { type: 'refresh_token' as const, refreshToken: secret(REFRESH_TOKEN) };
const clientCredentials = { type: 'client_credentials' as const };

/** Every way an error can be printed, including its cause chain. */
function renderings(error: unknown): string[] {
  const out: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 10; depth++) {
    const json = JSON.stringify(current) as string | undefined; // undefined for undefined input
    out.push(json ?? '', inspect(current, { depth: Infinity, showHidden: true }));
    if (current instanceof Error) {
      out.push(String(current), current.message, current.stack ?? '');
      current = current.cause;
    } else {
      current = undefined;
    }
  }
  return out;
}

function expectNoSecrets(texts: string[]): void {
  for (const text of texts) {
    for (const planted of secrets) {
      expect(text.includes(planted), `leaked a secret into: ${text.slice(0, 300)}`).toBe(false);
    }
    expect(text).not.toMatch(/CANARY/);
  }
}

const failures: [string, string, (engine: TokenEngine) => TokenRequest | Promise<unknown>][] = [
  [
    '400 echoing into error and error_description',
    'invalid_response',
    () => ({ client: client('/400'), grant: clientCredentials }),
  ],
  [
    '400 invalid_grant echoing into error_description',
    'reauthorization_required',
    () => ({ client: client('/400-known'), grant: refresh }),
  ],
  [
    '400 with client_secret_basic',
    'invalid_response',
    () => ({ client: client('/400', 'client_secret_basic'), grant: clientCredentials }),
  ],
  [
    '400 with private_key_jwt (the assertion echoed)',
    'invalid_response',
    () => ({ client: client('/400', 'private_key_jwt'), grant: clientCredentials }),
  ],
  [
    '401 with an echoing WWW-Authenticate',
    'invalid_client',
    () => ({ client: client('/401'), grant: refresh }),
  ],
  [
    '429 echoing into Retry-After',
    'rate_limited',
    () => ({ client: client('/429'), grant: clientCredentials }),
  ],
  ['500 echoing in plain text', 'server_error', () => ({ client: client('/500'), grant: refresh })],
  [
    '200 without access_token',
    'invalid_response',
    () => ({ client: client('/200-no-token'), grant: clientCredentials }),
  ],
  [
    '200 with broken JSON',
    'invalid_response',
    () => ({ client: client('/200-bad-json'), grant: clientCredentials }),
  ],
  [
    '200 with an echoing token_type',
    'invalid_response',
    () => ({ client: client('/200-token-type'), grant: clientCredentials }),
  ],
  [
    '302 with the secrets in Location',
    'redirect_refused',
    () => ({ client: client('/302'), grant: refresh }),
  ],
  [
    'a body over the size limit',
    'response_too_large',
    () => ({ client: client('/big'), grant: clientCredentials }),
  ],
  ['a stalled body', 'timeout', () => ({ client: client('/stall'), grant: refresh })],
  [
    'Slack ok:false echoing into error',
    'oauth_error',
    () => ({ client: client('/slack'), grant: refresh, flavour: 'slack' }),
  ],
  [
    'Slack invalid_refresh_token',
    'reauthorization_required',
    () => ({ client: client('/slack-known'), grant: refresh, flavour: 'slack' }),
  ],
  [
    'Shopify 401 echoing into error',
    'invalid_client',
    () => ({ client: client('/shopify'), grant: clientCredentials, flavour: 'shopify' }),
  ],
  [
    'a closed port',
    'network',
    () => ({ client: { ...client('/x'), tokenEndpoint: 'https://127.0.0.1:1/token' }, grant: refresh }),
  ],
  [
    'a refused address',
    'endpoint_refused',
    () => ({ client: { ...client('/x'), tokenEndpoint: 'https://10.0.0.1/token' }, grant: refresh }),
  ],
  [
    'an unparsable private key',
    'invalid_configuration',
    () => ({
      client: {
        ...client('/x', 'private_key_jwt'),
        privateKey: {
          pem: secret(`-----BEGIN PRIVATE KEY-----\n${CLIENT_SECRET}\n-----END PRIVATE KEY-----`),
        },
      },
      grant: clientCredentials,
    }),
  ],
  [
    'discovery naming another issuer',
    'discovery_failed',
    () => ({
      client: { ...client('/x'), issuer: `${server.url}/mismatch`, tokenEndpoint: undefined },
      grant: refresh,
    }),
  ],
  [
    'revocation at an echoing endpoint',
    'invalid_response',
    (own) =>
      own.revoke(
        { ...client('/x'), issuer: `${server.url}/methods`, tokenEndpoint: undefined },
        secret(ACCESS_TOKEN),
      ),
  ],
];

describe('the canary', () => {
  it('stays out of the token set, the logs and the observer on success', async () => {
    const standard = await engine.getToken({ client: client('/success'), grant: refresh });
    const slack = await engine.getToken({ client: client('/slack-ok'), grant: refresh, flavour: 'slack' });
    for (const token of [standard, slack]) {
      expect(token.accessToken.reveal()).toBe(ACCESS_TOKEN);
      expect(token.refreshToken?.reveal()).toBe(ROTATED_REFRESH_TOKEN);
      expectNoSecrets([
        String(token.accessToken),
        JSON.stringify(token),
        inspect(token, { depth: Infinity }),
      ]);
    }
    expectNoSecrets(logLines);
  });

  it.each(failures)('stays out of the error and the logs: %s (%s)', async (_name, code, run) => {
    const own = makeEngine();
    const started = logLines.length;
    const made = run(own);
    const error = await (made instanceof Promise ? made : own.getToken(made)).then(
      () => new Error('expected a failure'),
      (e: unknown) => e,
    );
    await own.close();
    expect(error).toHaveProperty('code', code);
    expectNoSecrets(renderings(error));
    expectNoSecrets(logLines.slice(started));
  });

  it('stays out of resolveClient warnings built from server metadata', async () => {
    const resolved = await engine.resolveClient({
      ...client('/x'),
      issuer: `${server.url}/methods`,
      tokenEndpoint: undefined,
    });
    expect(resolved.warnings).toHaveLength(1);
    expectNoSecrets(resolved.warnings);
  });

  it('logged something to check', () => {
    expect(logLines.some((line) => line.includes('token request failed'))).toBe(true);
    expect(logLines.some((line) => line.includes('token obtained'))).toBe(true);
  });
});
