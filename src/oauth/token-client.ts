// Token requests to standard OAuth 2.0 servers, through openid-client: the client_credentials and
// refresh_token grants with Auth0's `audience`, RFC 8707 `resource` (repeatable) and `scope`, and
// RFC 7009 revocation. The Configuration (endpoints, explicit client authentication, guarded fetch)
// comes from discovery.ts.
import {
  clientCredentialsGrant,
  refreshTokenGrant,
  tokenRevocation,
  type Configuration,
  type TokenEndpointResponse,
} from 'openid-client';
import type { Clock } from '../clock.ts';
import { secret, type SecretValue } from '../secrets/secret-value.ts';
import { toOAuthError } from './error-mapping.ts';
import { computeExpiresAt, parseScope } from './expiry.ts';
import { OAuthError } from './errors.ts';
import type { TokenRequest, TokenSet } from './types.ts';

export interface TokenClientContext {
  clock: Clock;
  /** host[:port] of the token endpoint, for error messages. */
  host: string;
}

/** The extra token-request parameters of a request: audience, resource (repeated), scope. */
export function tokenParameters(
  request: Pick<TokenRequest, 'audience' | 'resource' | 'scopes'>,
): URLSearchParams {
  const parameters = new URLSearchParams();
  if (request.audience !== undefined && request.audience !== '') parameters.set('audience', request.audience);
  for (const resource of request.resource ?? []) parameters.append('resource', resource);
  if (request.scopes !== undefined && request.scopes.length > 0)
    parameters.set('scope', request.scopes.join(' '));
  return parameters;
}

export async function requestToken(
  configuration: Configuration,
  request: TokenRequest,
  context: TokenClientContext,
): Promise<TokenSet> {
  const parameters = tokenParameters(request);
  const issuedAt = context.clock.now();
  let response: TokenEndpointResponse;
  try {
    response =
      request.grant.type === 'refresh_token'
        ? await refreshTokenGrant(configuration, request.grant.refreshToken.reveal(), parameters)
        : await clientCredentialsGrant(configuration, parameters);
  } catch (error) {
    throw toOAuthError(error, {
      phase: 'token request',
      host: context.host,
      grant: request.grant.type,
      now: context.clock.now(),
    });
  }
  return toTokenSet(response, issuedAt);
}

/** A TokenSet from a token response openid-client has validated (access_token and token_type present). */
export function toTokenSet(response: TokenEndpointResponse, issuedAt: number): TokenSet {
  const accessToken = response.access_token;
  const expiresAt = computeExpiresAt({ expiresIn: response.expires_in, accessToken, issuedAt });
  const grantedScopes = parseScope(response.scope);
  const refreshToken = typeof response.refresh_token === 'string' ? response.refresh_token : undefined;
  return {
    accessToken: secret(accessToken),
    tokenType: canonicalTokenType(response.token_type),
    issuedAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(grantedScopes === undefined ? {} : { grantedScopes }),
    ...(refreshToken === undefined || refreshToken === '' ? {} : { refreshToken: secret(refreshToken) }),
  };
}

/** openid-client lowercases token_type; give the registered spelling back (RFC 6750, RFC 9449). */
function canonicalTokenType(tokenType: string): string {
  if (tokenType === 'bearer') return 'Bearer';
  if (tokenType === 'dpop') return 'DPoP';
  return tokenType;
}

export async function revokeToken(
  configuration: Configuration,
  token: SecretValue,
  hint: 'access_token' | 'refresh_token',
  context: TokenClientContext,
): Promise<void> {
  if (configuration.serverMetadata().revocation_endpoint === undefined) {
    throw new OAuthError('invalid_configuration', `${context.host} advertises no revocation endpoint`);
  }
  try {
    await tokenRevocation(configuration, token.reveal(), { token_type_hint: hint });
  } catch (error) {
    throw toOAuthError(error, { phase: 'revocation', host: context.host, now: context.clock.now() });
  }
}
