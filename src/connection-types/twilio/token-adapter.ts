// Twilio's OAuth token endpoint for OAuth apps (`POST https://oauth.twilio.com/v2/token`, form encoded,
// the client credentials grant with client_id and client_secret in the body). openid-client cannot use
// it: the answer carries `"refresh_token": null` and `"id_token": null`, which it rejects as malformed.
// Twilio's errors are its REST errors (`{code, message, more_info, status}`): the numeric code is the
// one thing of the body repeated in messages (a number cannot carry anything a server should not say).
import { fromHttpResponse } from '../../oauth/error-mapping.ts';
import { OAuthError } from '../../oauth/errors.ts';
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

export const TWILIO_TOKEN_PATH = '/v2/token';

/** `tokenEndpoint` if set, else `{issuer}/v2/token`. */
export function twilioTokenEndpoint(request: TokenRequest): URL {
  return tokenEndpointOnIssuer(request, TWILIO_TOKEN_PATH);
}

/** Twilio's numeric error code (20003, 20429...) when the body has one. */
export function twilioErrorCode(body: Record<string, unknown> | undefined): number | undefined {
  const code = body?.code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 10_000 && code <= 99_999
    ? code
    : undefined;
}

export async function requestTwilioToken(context: AdapterContext, request: TokenRequest): Promise<TokenSet> {
  const { client, grant } = request;
  if (grant.type !== 'client_credentials') {
    throw new OAuthError(
      'invalid_configuration',
      'Twilio OAuth apps obtain tokens with the client_credentials grant only',
    );
  }
  const clientSecret = requiredClientSecret(client, 'Twilio OAuth apps need clientId and clientSecret');
  const endpoint = twilioTokenEndpoint(request);
  const form = new URLSearchParams({
    client_id: client.clientId,
    client_secret: clientSecret.reveal(),
    grant_type: 'client_credentials',
  });
  const issuedAt = context.clock.now();
  const { status, headers, body } = await postForJson(context, endpoint, form, {});
  if (status !== 200) {
    const error = fromHttpResponse(
      status,
      headers,
      body?.error,
      tokenRequestContext(context, endpoint, grant.type),
    );
    const twilioCode = twilioErrorCode(body);
    if (twilioCode === undefined) throw error;
    throw new OAuthError(error.code, `${error.message}, Twilio error ${String(twilioCode)}`, {
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.serverError === undefined ? {} : { serverError: error.serverError }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
  if (body === undefined) throw invalidResponse(endpoint.host, 'not a JSON object', status);
  return tokenSetFromJson(body, { host: endpoint.host, status, issuedAt });
}

export const twilioTokenAdapter: TokenAdapter = {
  flavour: 'twilio',
  tokenEndpoint: twilioTokenEndpoint,
  requestToken: requestTwilioToken,
};
