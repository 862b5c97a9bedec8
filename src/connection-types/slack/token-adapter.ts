// Slack's token endpoint (oauth.v2.access) with token rotation, which openid-client cannot use: it
// answers HTTP 200 with `{ok: false, error}` for failures, `token_type: "bot"`, and comma-separated
// scopes. Only the refresh_token grant exists here (rotation); `invalid_refresh_token` means the
// refresh token is gone and someone must reinstall the app.
import { fromHttpResponse, fromServerError } from '../../oauth/error-mapping.ts';
import { knownServerError, OAuthError } from '../../oauth/errors.ts';
import { parseRetryAfter } from '../../oauth/retry-after.ts';
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

export const SLACK_TOKEN_ENDPOINT = 'https://slack.com/api/oauth.v2.access';

export function slackTokenEndpoint(request: TokenRequest): URL {
  return endpointUrl(request.client.tokenEndpoint ?? SLACK_TOKEN_ENDPOINT, 'tokenEndpoint');
}

export async function requestSlackToken(context: AdapterContext, request: TokenRequest): Promise<TokenSet> {
  const { client, grant } = request;
  if (grant.type !== 'refresh_token') {
    throw new OAuthError(
      'invalid_configuration',
      'Slack tokens are refreshed with the refresh_token grant only',
    );
  }
  const clientSecret = requiredClientSecret(
    client,
    'Slack needs clientSecret with client_secret_post or client_secret_basic',
  );
  const endpoint = slackTokenEndpoint(request);
  const errorContext = () => tokenRequestContext(context, endpoint, grant.type);

  const form = new URLSearchParams({ grant_type: 'refresh_token' });
  const headers: Record<string, string> = {};
  if (client.authMethod === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${client.clientId}:${clientSecret.reveal()}`).toString('base64')}`;
  } else {
    form.set('client_id', client.clientId);
    form.set('client_secret', clientSecret.reveal());
  }
  form.set('refresh_token', grant.refreshToken.reveal());

  const issuedAt = context.clock.now();
  const { status, headers: responseHeaders, body } = await postForJson(context, endpoint, form, headers);
  if (status !== 200) throw fromHttpResponse(status, responseHeaders, body?.error, errorContext());
  if (body === undefined) throw invalidResponse(endpoint.host, 'not a JSON object', status);
  if (body.ok !== true) {
    const error = knownServerError(body.error);
    const retryAfterMs = parseRetryAfter(responseHeaders, context.clock.now());
    if (error === undefined) {
      throw new OAuthError(
        'oauth_error',
        `token request to ${endpoint.host} was refused: unrecognised Slack error`,
        {
          status,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    }
    throw fromServerError(error, errorContext(), {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  return tokenSetFromJson(
    body,
    { host: endpoint.host, status, issuedAt },
    { scopeSeparator: /[ ,]+/, refresh: true },
  );
}

export const slackTokenAdapter: TokenAdapter = {
  flavour: 'slack',
  tokenEndpoint: slackTokenEndpoint,
  requestToken: requestSlackToken,
};
