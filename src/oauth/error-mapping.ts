// Turns whatever a token, discovery or revocation request failed with (openid-client's errors, an HTTP
// status, a vendor's error code) into one OAuthError. Only the HTTP status, a known OAuth error code and
// the rate-limit headers are read; bodies, error_description and the library errors that carry them
// are dropped, so nothing a server sent (it may echo our credentials) can reach a message or a log.
import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { knownServerError, OAuthError, type OAuthErrorCode } from './errors.ts';
import { parseRetryAfter, type HeaderSource } from './retry-after.ts';
import type { Grant } from './types.ts';

export type Phase = 'token request' | 'discovery' | 'revocation';

export interface ErrorContext {
  phase: Phase;
  /** host[:port] of the endpoint. */
  host: string;
  grant?: Grant['type'];
  /** Epoch ms, to turn an HTTP-date Retry-After into a delay. */
  now: number;
}

const SERVER_CODE_MAP: Record<string, OAuthErrorCode> = {
  invalid_client: 'invalid_client',
  invalid_client_id: 'invalid_client',
  bad_client_secret: 'invalid_client',
  unauthorized_client: 'unauthorized_client',
  unsupported_grant_type: 'unauthorized_client',
  invalid_grant_type: 'unauthorized_client',
  invalid_grant: 'invalid_grant',
  invalid_refresh_token: 'invalid_grant',
  token_revoked: 'invalid_grant',
  token_expired: 'invalid_grant',
  expired_token: 'invalid_grant',
  invalid_scope: 'invalid_scope',
  invalid_target: 'invalid_target',
  temporarily_unavailable: 'server_error',
  server_error: 'server_error',
  internal_error: 'server_error',
  fatal_error: 'server_error',
  service_unavailable: 'server_error',
  request_timeout: 'server_error',
  ratelimited: 'rate_limited',
  slow_down: 'rate_limited',
};

/** The OAuthError for an HTTP error response, from its status, headers and (known) OAuth error code. */
export function fromHttpResponse(
  status: number,
  headers: HeaderSource | undefined,
  serverErrorCode: unknown,
  context: ErrorContext,
): OAuthError {
  const serverError = knownServerError(serverErrorCode);
  const retryAfterMs = headers === undefined ? undefined : parseRetryAfter(headers, context.now);
  const detail = `HTTP ${status}${serverError === undefined ? '' : `, ${serverError}`}`;
  const options = {
    status,
    ...(serverError === undefined ? {} : { serverError }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  if (status === 429)
    return new OAuthError('rate_limited', message(context, 'was rate limited', detail), options);
  if (status >= 500) return new OAuthError('server_error', message(context, 'failed', detail), options);
  // Auth0 answers a wrong client secret with 401 access_denied, and a client without a grant for the
  // API with 403 access_denied: both need a human, unlike the generic reading of access_denied.
  if (serverError === 'access_denied' && (status === 401 || status === 403)) {
    const code = status === 401 ? 'invalid_client' : 'unauthorized_client';
    return new OAuthError(code, message(context, 'was refused', detail), options);
  }
  if (serverError !== undefined) return fromServerError(serverError, context, options, detail);
  if (status === 401)
    return new OAuthError('invalid_client', message(context, 'was refused', detail), options);
  return new OAuthError('invalid_response', message(context, 'got an unusable response', detail), options);
}

/** The OAuthError for a known OAuth (or vendor) error code, whatever the HTTP status. */
export function fromServerError(
  serverError: string,
  context: ErrorContext,
  options: { status?: number; retryAfterMs?: number; serverError?: string } = {},
  detail: string = serverError,
): OAuthError {
  let code: OAuthErrorCode = SERVER_CODE_MAP[serverError] ?? 'oauth_error';
  if (code === 'invalid_grant' && context.grant === 'refresh_token') code = 'reauthorization_required';
  const what =
    code === 'reauthorization_required'
      ? 'was refused: the refresh token is no longer valid, authorise again'
      : code === 'rate_limited'
        ? 'was rate limited'
        : 'was refused';
  return new OAuthError(code, message(context, what, detail), { ...options, serverError });
}

/** Maps an error thrown by openid-client (or by the guarded fetch beneath it) to an OAuthError. */
export function toOAuthError(error: unknown, context: ErrorContext): OAuthError {
  const coded = findOAuthError(error);
  if (coded !== undefined) return coded;

  if (error instanceof ResponseBodyError) {
    return fromHttpResponse(error.status, headersOf(error.response), error.error, context);
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    const challengeError = error.cause.map((challenge) => challenge.parameters.error).find(knownServerError);
    return fromHttpResponse(error.status, headersOf(error.response), challengeError, context);
  }

  const libraryCode = codeOf(error);
  const fallback: OAuthErrorCode = context.phase === 'discovery' ? 'discovery_failed' : 'invalid_response';
  const cause = libraryCause(error);
  // An HTTP error status wins over what the library disliked about the body (e.g. a 429 in plain text).
  const response = error instanceof Error && error.cause instanceof Response ? error.cause : undefined;
  if (response !== undefined && (response.status < 200 || response.status >= 300)) {
    const mapped = fromHttpResponse(response.status, response.headers, undefined, context);
    // During discovery, a 404 (or another non-error status) means "no metadata here".
    return context.phase === 'discovery' && mapped.code === 'invalid_response'
      ? new OAuthError('discovery_failed', message(context, 'found no metadata', `HTTP ${response.status}`), {
          status: response.status,
        })
      : mapped;
  }
  switch (libraryCode) {
    case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
    case 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN':
      return new OAuthError('insecure_url', message(context, 'was refused', 'only https is allowed'), {
        cause,
      });
    case 'OAUTH_TIMEOUT':
    case 'OAUTH_ABORT':
      return new OAuthError('timeout', message(context, 'did not complete in time', libraryCode), { cause });
    case 'ERR_INVALID_ARG_TYPE':
    case 'ERR_INVALID_ARG_VALUE':
      return new OAuthError('invalid_configuration', message(context, 'could not be made', libraryCode), {
        cause,
      });
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      return new OAuthError(
        fallback,
        message(context, 'got metadata that does not match', 'issuer or another attribute differs'),
        { cause },
      );
    default:
      if (error instanceof DOMException && error.name === 'TimeoutError') {
        return new OAuthError('timeout', message(context, 'did not complete in time', 'TimeoutError'), {
          cause,
        });
      }
      return new OAuthError(
        fallback,
        message(context, 'got an unusable response', libraryCode ?? 'unrecognised failure'),
        { cause },
      );
  }
}

function message(context: ErrorContext, what: string, detail: string): string {
  const grant = context.grant === undefined || context.phase !== 'token request' ? '' : ` (${context.grant})`;
  return `${context.phase}${grant} to ${context.host} ${what}: ${detail}`;
}

function findOAuthError(error: unknown): OAuthError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof OAuthError) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

function headersOf(response: unknown): HeaderSource | undefined {
  return response instanceof Response ? response.headers : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : undefined;
}

/** A stand-in for a library error: its class name and code only (library errors may hold bodies). */
function libraryCause(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = codeOf(error);
  const name =
    error instanceof ClientError ? 'ClientError' : /^[A-Za-z]{1,64}$/.test(error.name) ? error.name : 'Error';
  const cause = new Error(`${name}${code === undefined ? '' : ` ${code}`}`);
  if (code !== undefined) Object.assign(cause, { code });
  return cause;
}
