// Shopify's Admin API token endpoint (`https://{shop}/admin/oauth/access_token`), which openid-client
// rejects: the response has no token_type. Credentials go in a JSON body, as Shopify documents, with the
// client credentials grant or, for expiring offline tokens, the refresh_token grant: Shopify answers
// with a new refresh token each time (a rotation the reconciler persists before use). No scope is sent:
// Shopify takes none; the app's configured scopes come back in `scope`, comma separated.
import { fromHttpResponse } from '../../oauth/error-mapping.ts';
import type { TokenAdapter } from '../../oauth/token-adapter.ts';
import type { TokenRequest, TokenSet } from '../../oauth/types.ts';
import {
  endpointUrl,
  invalidResponse,
  postForJson,
  tokenRequestContext,
  tokenSetFromJson,
  type AdapterContext,
  requiredClientSecret,
} from '../../oauth/adapters/json-post.ts';

/** `tokenEndpoint` if set, else `https://{issuer host}/admin/oauth/access_token`. */
export function shopifyTokenEndpoint(request: TokenRequest): URL {
  const { client } = request;
  if (client.tokenEndpoint !== undefined) return endpointUrl(client.tokenEndpoint, 'tokenEndpoint');
  const shop = endpointUrl(client.issuer, 'issuer');
  return new URL('/admin/oauth/access_token', `https://${shop.host}`);
}

export async function requestShopifyToken(context: AdapterContext, request: TokenRequest): Promise<TokenSet> {
  const { client, grant } = request;
  const clientSecret = requiredClientSecret(client, 'Shopify needs clientId and clientSecret');
  const endpoint = shopifyTokenEndpoint(request);

  const issuedAt = context.clock.now();
  const { status, headers, body } = await postForJson(
    context,
    endpoint,
    JSON.stringify({
      client_id: client.clientId,
      client_secret: clientSecret.reveal(),
      grant_type: grant.type,
      ...(grant.type === 'refresh_token' ? { refresh_token: grant.refreshToken.reveal() } : {}),
    }),
    { 'content-type': 'application/json' },
  );
  if (status !== 200) {
    throw fromHttpResponse(status, headers, body?.error, tokenRequestContext(context, endpoint, grant.type));
  }
  if (body === undefined) throw invalidResponse(endpoint.host, 'not a JSON object', status);
  return tokenSetFromJson(
    body,
    { host: endpoint.host, status, issuedAt },
    { scopeSeparator: /[ ,]+/, refresh: grant.type === 'refresh_token' },
  );
}

export const shopifyTokenAdapter: TokenAdapter = {
  flavour: 'shopify',
  tokenEndpoint: shopifyTokenEndpoint,
  requestToken: requestShopifyToken,
};
