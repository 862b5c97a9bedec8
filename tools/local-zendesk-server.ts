// A Zendesk-shaped OAuth token endpoint on 127.0.0.1 (HTTPS): `POST /oauth/tokens` with a JSON body only
// (as Zendesk documents it; a form body is refused), for the client_credentials and refresh_token grants.
// A refresh replaces both tokens and invalidates the old pair, as Zendesk does. Errors are shaped as
// Zendesk sends them: 401 `invalid_client`, 400 `invalid_grant` / `invalid_scope` / `invalid_request`,
// 403 `Forbidden`, 429 with Retry-After.
//
//   const zendesk = await startLocalZendeskServer({ clientId: 'coffre', clientSecret: 's' });
//   const refreshToken = zendesk.issueRefreshToken();   // as an authorization code grant would
//   zendesk.baseUrl, zendesk.caPem, zendesk.tokenRequests('refresh_token'), zendesk.failNext(429, ...)
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, startLocalHttpsServer, type LocalHttpsServer } from './local-https-server.ts';
import type { CertificateAuthority } from './tls.ts';

export const ZENDESK_TOKEN_PATH = '/oauth/tokens';

export interface LocalZendeskServerOptions {
  clientId: string;
  clientSecret: string;
  /** Seconds, when the request names no expires_in. */
  tokenLifetimeSeconds?: number;
  /** The scopes the OAuth client is allowed; a request for another is refused (invalid_scope). */
  allowedScopes?: string[];
  /** Scopes granted when the request names none. */
  defaultScope?: string;
  ca?: CertificateAuthority;
}

export interface ZendeskFailure {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface LocalZendeskServer {
  /** `https://127.0.0.1:{port}`: what `--zendesk-base-url` takes. */
  readonly baseUrl: string;
  readonly tokenEndpoint: string;
  readonly caPem: string;
  readonly https: LocalHttpsServer;
  /** A refresh token, as the authorization code grant would have returned it. */
  issueRefreshToken(): string;
  /** Whether the server still honours this refresh token. */
  isActive(refreshToken: string): boolean;
  /** Whether this access token is still valid (a refresh invalidates the pair it replaces). */
  isAccessTokenActive(accessToken: string): boolean;
  /** Requests refused with invalid_grant (a refresh token used twice, or never issued). */
  invalidGrants(): number;
  /** Token requests answered, all or for one grant type. */
  tokenRequests(grant?: string): number;
  /** The JSON bodies received, newest last (for tests of what was sent; secrets included). */
  bodies(): Record<string, unknown>[];
  /** Answers the next token request with this failure. */
  failNext(failure: ZendeskFailure): void;
  stop(): Promise<void>;
}

/** The failures as Zendesk sends them. */
export const ZENDESK_FAILURES = {
  forbidden: {
    status: 403,
    body: {
      error: 'Forbidden',
      description:
        'You do not have access to this page. Please contact the account owner of this help desk for further help.',
    },
  },
  rateLimited: (retryAfterSeconds: number): ZendeskFailure => ({
    status: 429,
    body: { error: 'TooManyRequests', description: 'Rate limit exceeded' },
    headers: { 'retry-after': String(retryAfterSeconds) },
  }),
} satisfies Record<string, ZendeskFailure | ((n: number) => ZendeskFailure)>;

export async function startLocalZendeskServer(
  options: LocalZendeskServerOptions,
): Promise<LocalZendeskServer> {
  /** Refresh token → the access token issued with it (the pair a refresh invalidates). */
  const pairs = new Map<string, string | undefined>();
  const accessTokens = new Set<string>();
  const failures: ZendeskFailure[] = [];
  const byGrant = new Map<string, number>();
  const received: Record<string, unknown>[] = [];
  let invalidGrants = 0;
  const issueRefresh = () => randomBytes(32).toString('hex');

  const refuse = (res: ServerResponse, status: number, error: string, description: string) => {
    sendJson(res, status, { error, error_description: description });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== ZENDESK_TOKEN_PATH) {
      sendJson(res, 404, { error: 'InvalidEndpoint', description: 'Not found' });
      return;
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      refuse(res, 400, 'invalid_request', 'The request must be JSON.');
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      refuse(res, 400, 'invalid_request', 'The request body is not valid JSON.');
      return;
    }
    received.push(body);
    const grant = typeof body.grant_type === 'string' ? body.grant_type : '';
    byGrant.set(grant, (byGrant.get(grant) ?? 0) + 1);
    const failure = failures.shift();
    if (failure !== undefined) {
      sendJson(res, failure.status, failure.body, failure.headers ?? {});
      return;
    }
    if (body.client_id !== options.clientId || body.client_secret !== options.clientSecret) {
      refuse(
        res,
        401,
        'invalid_client',
        'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
      );
      return;
    }
    // Only a requested lifetime is checked; tokenLifetimeSeconds may be short, for tests of renewal.
    const expiresIn = body.expires_in ?? options.tokenLifetimeSeconds ?? 7_200;
    if (
      typeof expiresIn !== 'number' ||
      !Number.isInteger(expiresIn) ||
      (body.expires_in !== undefined && (expiresIn < 300 || expiresIn > 172_800))
    ) {
      refuse(res, 400, 'invalid_request', 'expires_in must be between 300 and 172800 seconds.');
      return;
    }
    const scope =
      typeof body.scope === 'string' && body.scope !== '' ? body.scope : (options.defaultScope ?? 'read');
    const allowed = options.allowedScopes;
    if (allowed !== undefined && scope.split(' ').some((s) => !allowed.includes(s))) {
      refuse(res, 400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
      return;
    }
    if (grant === 'refresh_token') {
      const presented = typeof body.refresh_token === 'string' ? body.refresh_token : '';
      if (!pairs.has(presented)) {
        invalidGrants += 1;
        refuse(
          res,
          400,
          'invalid_grant',
          'The provided authorization grant is invalid, expired, or revoked.',
        );
        return;
      }
      // Zendesk deletes the previous access and refresh tokens when it issues the new pair.
      const old = pairs.get(presented);
      if (old !== undefined) accessTokens.delete(old);
      pairs.delete(presented);
    } else if (grant !== 'client_credentials') {
      refuse(res, 400, 'unsupported_grant_type', 'The authorization grant type is not supported.');
      return;
    }
    const accessToken = randomBytes(32).toString('hex');
    const refreshToken = issueRefresh();
    accessTokens.add(accessToken);
    pairs.set(refreshToken, accessToken);
    sendJson(res, 200, {
      access_token: accessToken,
      token_type: 'bearer',
      scope,
      expires_in: expiresIn,
      refresh_token: refreshToken,
      refresh_token_expires_in: 2_592_000,
    });
  }

  const https = await startLocalHttpsServer({ handler: handle, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    baseUrl: https.url,
    tokenEndpoint: `${https.url}${ZENDESK_TOKEN_PATH}`,
    caPem: https.caPem,
    https,
    issueRefreshToken() {
      const token = issueRefresh();
      pairs.set(token, undefined);
      return token;
    },
    isActive: (refreshToken) => pairs.has(refreshToken),
    isAccessTokenActive: (accessToken) => accessTokens.has(accessToken),
    invalidGrants: () => invalidGrants,
    tokenRequests: (grant) =>
      grant === undefined ? [...byGrant.values()].reduce((a, b) => a + b, 0) : (byGrant.get(grant) ?? 0),
    bodies: () => [...received],
    failNext(failure) {
      failures.push(failure);
    },
    stop: () => https.stop(),
  };
}
