// The OAuth engine's one error class and its catalogue of stable codes. Whether an error is worth
// retrying is decided here, by code, once: callers (the reconcilers) key on `code` and `retryable`,
// never on message text. Messages name hosts, HTTP statuses and OAuth error codes from a fixed list,
// and nothing else a server sent: no response bodies, no error_description, no secret material.
import { CoffreError } from '../errors.ts';

interface CatalogueEntry {
  readonly retryable: boolean;
  readonly meaning: string;
}

/** Every code an OAuthError can carry. Terminal codes need a human; retryable ones can heal by themselves. */
export const OAuthErrorCatalogue = {
  // Terminal: retrying the same request cannot succeed until someone changes something.
  invalid_client: { retryable: false, meaning: 'the server rejected the client credentials' },
  unauthorized_client: { retryable: false, meaning: 'the client may not use this grant type' },
  invalid_grant: { retryable: false, meaning: 'the server rejected the grant' },
  invalid_scope: { retryable: false, meaning: 'a requested scope is unknown or not allowed' },
  invalid_target: {
    retryable: false,
    meaning: 'the requested audience or resource is unknown or not allowed',
  },
  reauthorization_required: {
    retryable: false,
    meaning: 'the refresh token was rejected (rotated, revoked or expired): authorise again',
  },
  endpoint_refused: { retryable: false, meaning: 'the endpoint is in a refused address range (SSRF guard)' },
  insecure_url: { retryable: false, meaning: 'the URL is not https and insecure mode is off' },
  redirect_refused: {
    retryable: false,
    meaning: 'the server answered with a redirect, which is never followed',
  },
  invalid_configuration: {
    retryable: false,
    meaning: 'the client configuration is unusable (e.g. a bad key)',
  },
  // Retryable: transient, or worth another attempt after a backoff.
  rate_limited: { retryable: true, meaning: 'the server is rate limiting (HTTP 429)' },
  server_error: { retryable: true, meaning: 'the server failed (HTTP 5xx)' },
  network: { retryable: true, meaning: 'the connection failed' },
  timeout: { retryable: true, meaning: 'the server did not answer in time' },
  invalid_response: { retryable: true, meaning: 'the response was not a usable token response' },
  discovery_failed: { retryable: true, meaning: 'the server metadata could not be obtained' },
  response_too_large: { retryable: true, meaning: 'the response exceeded the size limit' },
  oauth_error: { retryable: true, meaning: 'the server returned another OAuth error' },
} as const satisfies Record<string, CatalogueEntry>;

export type OAuthErrorCode = keyof typeof OAuthErrorCatalogue;

export const OAuthErrorCodes = Object.keys(OAuthErrorCatalogue) as OAuthErrorCode[];

export interface OAuthErrorOptions {
  /** Only errors that carry no response data (network errors, other OAuthErrors). */
  cause?: unknown;
  retryAfterMs?: number;
  /** HTTP status of the response, when there was one. */
  status?: number;
  /** The server's OAuth error code, only when it is one of KNOWN_SERVER_ERROR_CODES. */
  serverError?: string;
}

export class OAuthError extends CoffreError {
  declare readonly code: OAuthErrorCode;
  readonly status: number | undefined;
  readonly serverError: string | undefined;

  constructor(code: OAuthErrorCode, message: string, options: OAuthErrorOptions = {}) {
    super(code, message, {
      cause: options.cause,
      retryable: OAuthErrorCatalogue[code].retryable,
      ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
    });
    this.status = options.status;
    this.serverError = options.serverError;
  }
}

export function isOAuthError(error: unknown): error is OAuthError {
  return error instanceof OAuthError;
}

/**
 * OAuth error codes a server may send that we repeat in messages and `serverError`. A server-chosen
 * string outside this list is never repeated: a hostile or buggy server could put anything there,
 * including the credentials it was just sent.
 */
export const KNOWN_SERVER_ERROR_CODES: ReadonlySet<string> = new Set([
  // RFC 6749, RFC 7009, RFC 8707, RFC 8628, RFC 9449, RFC 6750
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'unsupported_token_type',
  'invalid_token',
  'insufficient_scope',
  'slow_down',
  'authorization_pending',
  'expired_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_client_metadata',
  // Slack (oauth.v2.access)
  'invalid_refresh_token',
  'invalid_client_id',
  'bad_client_secret',
  'invalid_grant_type',
  'invalid_code',
  'bad_redirect_uri',
  'token_expired',
  'token_revoked',
  'ratelimited',
  'access_limited',
  'fatal_error',
  'internal_error',
  'request_timeout',
  'service_unavailable',
  'team_added_to_org',
  'oauth_authorization_url_mismatch',
]);

/** The server's error code if it is a known one, else undefined. */
export function knownServerError(value: unknown): string | undefined {
  return typeof value === 'string' && KNOWN_SERVER_ERROR_CODES.has(value) ? value : undefined;
}
