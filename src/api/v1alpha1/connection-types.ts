// The connection types and their contract with users: which keys coffre reads from the credentials Secret
// and which keys it writes to the target Secret. Providers implement this table; the API reference is
// generated from it.

export const ConnectionTypes = [
  'auth0',
  'oauth2',
  'twilio',
  'slack',
  'shopify',
  'zendesk',
  'apiKey',
  'bearerToken',
  'basicAuth',
] as const;
export type ConnectionType = (typeof ConnectionTypes)[number];

/** One accepted set of credential keys; the first complete set in declaration order wins. */
export interface CredentialVariant {
  /** Short name used in messages and docs. */
  name: string;
  /** Keys that must be present and non-blank in the credentials Secret. */
  keys: readonly string[];
  /** Keys read when present. */
  optionalKeys?: readonly string[];
  description: string;
}

export interface ConnectionTypeInfo {
  summary: string;
  /** Whether the connection obtains expiring tokens (Expired applies, refresh is scheduled). */
  tokens: 'always' | 'variant' | 'never';
  /** Credential variants when credentialsRef is used. Empty when the type takes only an OAuthClient. */
  variants: readonly CredentialVariant[];
  /** Whether oauthClientRef is accepted. */
  oauthClient: 'no' | 'optional' | 'required';
  /** Keys written to the target Secret, with their meaning. */
  published: Readonly<Record<string, string>>;
}

const tokenKeys = {
  access_token: 'The access token.',
  token_type: 'The token type, e.g. `Bearer`.',
  expires_at: 'Expiry, RFC 3339 UTC; absent when the token does not expire.',
  scope: 'Granted scopes, space separated; absent when the server reports none.',
} as const;

export const connectionTypes: Readonly<Record<ConnectionType, ConnectionTypeInfo>> = {
  auth0: {
    summary:
      'Auth0 Management API (or any Auth0 API) through an M2M application: client credentials grant, a new token minted before the old one expires (Auth0 gives M2M applications no refresh token).',
    tokens: 'always',
    variants: [
      {
        name: 'm2m',
        keys: ['clientId', 'clientSecret'],
        description: 'Client ID and secret of the M2M application.',
      },
    ],
    oauthClient: 'optional',
    published: tokenKeys,
  },
  oauth2: {
    summary:
      'Any OAuth 2.0 server through an OAuthClient: `client_credentials`, or `refresh_token` with the refresh token in the credentials Secret (rotations are persisted by coffre before the new token is used).',
    tokens: 'always',
    variants: [
      {
        name: 'refresh-token',
        keys: ['refreshToken'],
        description: 'Only for grant `refresh_token`: the initial refresh token.',
      },
    ],
    oauthClient: 'required',
    published: tokenKeys,
  },
  twilio: {
    summary: 'Twilio REST API with HTTP basic authentication: the account SID and auth token, or an API key.',
    tokens: 'never',
    variants: [
      {
        name: 'api-key',
        keys: ['accountSid', 'apiKeySid', 'apiKeySecret'],
        description:
          'Account SID (AC...), API key SID (SK...) and secret. Preferred: keys can be revoked one by one.',
      },
      {
        name: 'auth-token',
        keys: ['accountSid', 'authToken'],
        description: 'Account SID (AC...) and the primary auth token.',
      },
    ],
    oauthClient: 'no',
    published: {
      account_sid: 'The account SID.',
      username: 'Basic-auth user: the API key SID, or the account SID.',
      password: 'Basic-auth password: the API key secret, or the auth token.',
    },
  },
  slack: {
    summary:
      'Slack Web API: a bot token, or rotating tokens (token rotation on) renewed through oauth.v2.access with the refresh token.',
    tokens: 'variant',
    variants: [
      {
        name: 'rotating',
        keys: ['clientId', 'clientSecret', 'refreshToken'],
        description: 'App client ID and secret and the refresh token (xoxe-...); tokens live 12 hours.',
      },
      { name: 'bot-token', keys: ['botToken'], description: 'A bot token (xoxb-...), without expiry.' },
    ],
    oauthClient: 'no',
    published: tokenKeys,
  },
  shopify: {
    summary:
      'Shopify Admin API: an admin API access token, or the client credentials grant of an app installed in its own organisation.',
    tokens: 'variant',
    variants: [
      {
        name: 'client-credentials',
        keys: ['clientId', 'clientSecret'],
        description: 'Client ID and secret of the app; tokens live about 24 hours.',
      },
      { name: 'admin-token', keys: ['accessToken'], description: 'An admin API access token (shpat_...).' },
    ],
    oauthClient: 'no',
    published: {
      ...tokenKeys,
      shop_domain: 'The shop domain; send the token in the `X-Shopify-Access-Token` header.',
    },
  },
  zendesk: {
    summary:
      'Zendesk API: an agent email with an API token (basic authentication), or an OAuth access token.',
    tokens: 'never',
    variants: [
      {
        name: 'api-token',
        keys: ['email', 'apiToken'],
        description: 'Agent email and API token; published as basic-auth `{email}/token` and the token.',
      },
      { name: 'oauth-token', keys: ['accessToken'], description: 'An OAuth access token.' },
    ],
    oauthClient: 'no',
    published: {
      base_url: 'https://{subdomain}.zendesk.com',
      username: 'api-token: `{email}/token`.',
      password: 'api-token: the API token.',
      access_token: 'oauth-token: the token.',
      token_type: 'oauth-token: `Bearer`.',
    },
  },
  apiKey: {
    summary: 'A plain API key.',
    tokens: 'never',
    variants: [{ name: 'api-key', keys: ['apiKey'], description: 'The key.' }],
    oauthClient: 'no',
    published: { api_key: 'The key.' },
  },
  bearerToken: {
    summary: 'A static bearer token.',
    tokens: 'never',
    variants: [{ name: 'token', keys: ['token'], description: 'The token.' }],
    oauthClient: 'no',
    published: { access_token: 'The token.', token_type: '`Bearer`.' },
  },
  basicAuth: {
    summary: 'A user name and password for HTTP basic authentication.',
    tokens: 'never',
    variants: [{ name: 'basic', keys: ['username', 'password'], description: 'User name and password.' }],
    oauthClient: 'no',
    published: {
      username: 'The user name.',
      password: 'The password.',
      authorization: 'The ready-made header value `Basic base64(username:password)`.',
    },
  },
};
