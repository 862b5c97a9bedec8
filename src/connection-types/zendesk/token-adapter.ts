// Zendesk's token endpoint (`POST https://{subdomain}.zendesk.com/oauth/tokens`), which takes a JSON
// body only (openid-client sends a form) with the client credentials or the refresh token grant. A
// refresh replaces both tokens and invalidates the old pair: the new refresh token comes back in the
// TokenSet, for the reconciler to persist before the new access token is used. Zendesk answers 401
// for a bad client, 400 `invalid_grant` for a dead refresh token, 403 when the client may not do this
// and 429 with Retry-After when rate limited.
import { fromHttpResponse } from '../../oauth/error-mapping.ts';
import { knownServerError, OAuthError } from '../../oauth/errors.ts';
import type { TokenAdapter } from '../../oauth/token-adapter.ts';
import type { TokenRequest, TokenSet } from '../../oauth/types.ts';
import {
  invalidResponse,
  postForJson,
  tokenEndpointOnIssuer,
  tokenRequestContext,
  tokenSetFromJson,
  type AdapterContext,
  requiredClientSecret,
} from '../../oauth/adapters/json-post.ts';

export const ZENDESK_TOKEN_PATH = '/oauth/tokens';

/** `tokenEndpoint` if set, else `https://{issuer host}/oauth/tokens`. */
export function zendeskTokenEndpoint(request: TokenRequest): URL {
  return tokenEndpointOnIssuer(request, ZENDESK_TOKEN_PATH);
}

export async function requestZendeskToken(context: AdapterContext, request: TokenRequest): Promise<TokenSet> {
  const { client, grant } = request;
  const clientSecret = requiredClientSecret(client, 'Zendesk needs the OAuth client identifier and secret');
  const endpoint = zendeskTokenEndpoint(request);
  const body: Record<string, string | number> = {
    grant_type: grant.type,
    client_id: client.clientId,
    client_secret: clientSecret.reveal(),
  };
  if (grant.type === 'refresh_token') body.refresh_token = grant.refreshToken.reveal();
  if (request.scopes !== undefined && request.scopes.length > 0) body.scope = request.scopes.join(' ');
  if (request.expiresInSeconds !== undefined) body.expires_in = request.expiresInSeconds;

  const issuedAt = context.clock.now();
  const {
    status,
    headers,
    body: answer,
  } = await postForJson(context, endpoint, JSON.stringify(body), {
    'content-type': 'application/json',
  });
  if (status !== 200) {
    // A 403 is Zendesk saying this client may not do this (a grant or a scope it is not allowed): no
    // retry helps, unlike the generic reading of an unexplained 4xx.
    if (status === 403 && knownServerError(answer?.error) === undefined) {
      throw new OAuthError(
        'unauthorized_client',
        `token request (${grant.type}) to ${endpoint.host} was refused: HTTP 403`,
        { status },
      );
    }
    throw fromHttpResponse(
      status,
      headers,
      answer?.error,
      tokenRequestContext(context, endpoint, grant.type),
    );
  }
  if (answer === undefined) throw invalidResponse(endpoint.host, 'not a JSON object', status);
  return tokenSetFromJson(
    answer,
    { host: endpoint.host, status, issuedAt },
    { scopeSeparator: / +/, refresh: true },
  );
}

export const zendeskTokenAdapter: TokenAdapter = {
  flavour: 'zendesk',
  tokenEndpoint: zendeskTokenEndpoint,
  requestToken: requestZendeskToken,
};
