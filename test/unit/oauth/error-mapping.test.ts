import { describe, expect, it } from 'vitest';
import { fromHttpResponse, fromServerError, type ErrorContext } from '../../../src/oauth/error-mapping.ts';
import { OAuthError, OAuthErrorCatalogue, OAuthErrorCodes } from '../../../src/oauth/errors.ts';

const now = Date.parse('2026-11-22T12:00:00Z');
const clientCredentials: ErrorContext = {
  phase: 'token request',
  host: 'idp.example',
  grant: 'client_credentials',
  now,
};
const refresh: ErrorContext = { ...clientCredentials, grant: 'refresh_token' };

describe('fromHttpResponse', () => {
  it.each<
    [string, number, Record<string, string>, unknown, ErrorContext, string, boolean, number | undefined]
  >([
    [
      '429 with Retry-After',
      429,
      { 'retry-after': '30' },
      undefined,
      clientCredentials,
      'rate_limited',
      true,
      30_000,
    ],
    [
      '429 with x-ratelimit-reset',
      429,
      { 'x-ratelimit-reset': String(now / 1000 + 5) },
      undefined,
      clientCredentials,
      'rate_limited',
      true,
      5_000,
    ],
    [
      '503 with Retry-After',
      503,
      { 'retry-after': '10' },
      'temporarily_unavailable',
      clientCredentials,
      'server_error',
      true,
      10_000,
    ],
    ['500 without a body', 500, {}, undefined, clientCredentials, 'server_error', true, undefined],
    ['401 invalid_client', 401, {}, 'invalid_client', clientCredentials, 'invalid_client', false, undefined],
    ['401 without a code', 401, {}, undefined, clientCredentials, 'invalid_client', false, undefined],
    [
      '400 unauthorized_client',
      400,
      {},
      'unauthorized_client',
      clientCredentials,
      'unauthorized_client',
      false,
      undefined,
    ],
    [
      '400 unsupported_grant_type',
      400,
      {},
      'unsupported_grant_type',
      clientCredentials,
      'unauthorized_client',
      false,
      undefined,
    ],
    ['400 invalid_scope', 400, {}, 'invalid_scope', clientCredentials, 'invalid_scope', false, undefined],
    ['400 invalid_target', 400, {}, 'invalid_target', clientCredentials, 'invalid_target', false, undefined],
    [
      '400 invalid_grant on client_credentials',
      400,
      {},
      'invalid_grant',
      clientCredentials,
      'invalid_grant',
      false,
      undefined,
    ],
    [
      '400 invalid_grant on refresh_token',
      400,
      {},
      'invalid_grant',
      refresh,
      'reauthorization_required',
      false,
      undefined,
    ],
    ['400 invalid_request', 400, {}, 'invalid_request', clientCredentials, 'oauth_error', true, undefined],
    [
      '400 with an unknown code',
      400,
      {},
      'CANARY-made-up',
      clientCredentials,
      'invalid_response',
      true,
      undefined,
    ],
    ['403 without a code', 403, {}, undefined, clientCredentials, 'invalid_response', true, undefined],
    [
      "401 access_denied (Auth0's wrong client secret)",
      401,
      {},
      'access_denied',
      clientCredentials,
      'invalid_client',
      false,
      undefined,
    ],
    [
      "403 access_denied (Auth0's client without a grant for the API)",
      403,
      {},
      'access_denied',
      clientCredentials,
      'unauthorized_client',
      false,
      undefined,
    ],
  ])('maps %s', (_name, status, headers, serverError, context, code, retryable, retryAfterMs) => {
    const error = fromHttpResponse(status, new Headers(headers), serverError, context);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.retryAfterMs).toBe(retryAfterMs);
    expect(error.status).toBe(status);
  });

  it('never repeats an unknown server error code', () => {
    const error = fromHttpResponse(400, new Headers(), 'CANARY-secret-in-code', clientCredentials);
    expect(error.message).not.toContain('CANARY');
    expect(error.serverError).toBeUndefined();
  });

  it('names the phase, grant, host and status', () => {
    expect(fromHttpResponse(400, undefined, 'invalid_scope', clientCredentials).message).toBe(
      'token request (client_credentials) to idp.example was refused: HTTP 400, invalid_scope',
    );
  });
});

describe('fromServerError', () => {
  it.each<[string, ErrorContext, string]>([
    ['invalid_refresh_token', refresh, 'reauthorization_required'],
    ['token_revoked', refresh, 'reauthorization_required'],
    ['ratelimited', refresh, 'rate_limited'],
    ['bad_client_secret', refresh, 'invalid_client'],
    ['invalid_client_id', refresh, 'invalid_client'],
    ['internal_error', refresh, 'server_error'],
    ['access_denied', refresh, 'oauth_error'],
  ])('maps the vendor code %s', (serverError, context, code) => {
    expect(fromServerError(serverError, context).code).toBe(code);
  });
});

describe('the catalogue', () => {
  it('makes exactly the human-action codes terminal', () => {
    const terminal = OAuthErrorCodes.filter((code) => !OAuthErrorCatalogue[code].retryable).sort();
    expect(terminal).toEqual(
      [
        'endpoint_refused',
        'insecure_url',
        'invalid_client',
        'invalid_configuration',
        'invalid_grant',
        'invalid_scope',
        'invalid_target',
        'reauthorization_required',
        'redirect_refused',
        'unauthorized_client',
      ].sort(),
    );
  });

  it('derives retryable from the code', () => {
    expect(new OAuthError('timeout', 'x').retryable).toBe(true);
    expect(new OAuthError('invalid_client', 'x').retryable).toBe(false);
  });
});
