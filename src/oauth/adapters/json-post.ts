// The one HTTP exchange the vendor adapters share: POST to a token endpoint through the guarded fetch
// and read a JSON object back. Transport failures and non-JSON answers become OAuthErrors here; what an
// HTTP status or a vendor error code means is left to each adapter.
import type { Clock } from '../../clock.ts';
import type { ErrorContext } from '../error-mapping.ts';
import { OAuthError } from '../errors.ts';
import type { GuardedFetch } from '../guarded-fetch.ts';
import { secret, type SecretValue } from '../../secrets/secret-value.ts';
import { computeExpiresAt, parseScope } from '../expiry.ts';
import type { Grant, TokenRequest, TokenSet } from '../types.ts';

export interface AdapterContext {
  fetch: GuardedFetch;
  clock: Clock;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The parsed body when it is a JSON object; undefined otherwise. */
  body: Record<string, unknown> | undefined;
}

export async function postForJson(
  context: AdapterContext,
  endpoint: URL,
  body: string | URLSearchParams,
  headers: Record<string, string>,
): Promise<JsonResponse> {
  const response = await context.fetch(endpoint, {
    method: 'POST',
    headers: { accept: 'application/json', ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, body: parseObject(await response.text()) };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string field, or undefined. */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The error context of a token request to `endpoint`; read now, so a Retry-After date is timed from now. */
export function tokenRequestContext(
  context: AdapterContext,
  endpoint: URL,
  grant: Grant['type'],
): ErrorContext {
  return { phase: 'token request', host: endpoint.host, grant, now: context.clock.now() };
}

/** `tokenEndpoint` if the client names one, else `path` on the issuer. */
export function tokenEndpointOnIssuer(request: TokenRequest, path: string): URL {
  const { client } = request;
  if (client.tokenEndpoint !== undefined) return endpointUrl(client.tokenEndpoint, 'tokenEndpoint');
  return new URL(path, endpointUrl(client.issuer, 'issuer'));
}

export function invalidResponse(host: string, why: string, status: number): OAuthError {
  return new OAuthError('invalid_response', `token request to ${host} got an unusable response: ${why}`, {
    status,
  });
}

/** The endpoint URL, refusing anything that is not http(s). */
export function endpointUrl(value: string, field: string): URL {
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new OAuthError('invalid_configuration', `${field} is not an http(s) URL`);
  }
  return url;
}

const TOKEN_TYPES = new Map([
  ['bearer', 'Bearer'],
  ['dpop', 'DPoP'],
  ['bot', 'bot'],
  ['user', 'user'],
]);

/** The token_type from a known set (a server-chosen string is never passed on), `Bearer` when absent. */
export function tokenTypeOf(body: Record<string, unknown>): string {
  const value = body.token_type;
  return (typeof value === 'string' ? TOKEN_TYPES.get(value.toLowerCase()) : undefined) ?? 'Bearer';
}

/** The client secret a vendor adapter sends: it has no private_key_jwt, so a missing one is a configuration error. */
export function requiredClientSecret(client: TokenRequest['client'], message: string): SecretValue {
  const clientSecret = client.clientSecret;
  if (client.authMethod === 'private_key_jwt' || clientSecret === undefined || clientSecret.isBlank) {
    throw new OAuthError('invalid_configuration', message);
  }
  return clientSecret;
}

/**
 * The TokenSet of a vendor's JSON token answer: `access_token` required; expiry from `expires_in` (or
 * the JWT's exp); `scope` split by `scopeSeparator` when given; `refresh_token` kept when `refresh`.
 */
export function tokenSetFromJson(
  body: Record<string, unknown>,
  at: { host: string; status: number; issuedAt: number },
  options: { scopeSeparator?: RegExp; refresh?: boolean } = {},
): TokenSet {
  const accessToken = stringField(body, 'access_token');
  if (accessToken === undefined) throw invalidResponse(at.host, 'no access_token', at.status);
  const { issuedAt } = at;
  const expiresAt = computeExpiresAt({ expiresIn: body.expires_in, accessToken, issuedAt });
  const grantedScopes =
    options.scopeSeparator === undefined ? undefined : parseScope(body.scope, options.scopeSeparator);
  const refreshToken = options.refresh === true ? stringField(body, 'refresh_token') : undefined;
  return {
    accessToken: secret(accessToken),
    tokenType: tokenTypeOf(body),
    issuedAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(grantedScopes === undefined ? {} : { grantedScopes }),
    ...(refreshToken === undefined ? {} : { refreshToken: secret(refreshToken) }),
  };
}
