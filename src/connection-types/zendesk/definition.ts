// zendesk: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { DNS_LABEL_PATTERN, Scopes, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, StrictScopes, tokenKeys } from '../definition.ts';

/** Zendesk deactivates every remaining API token on this day (new ones cannot be created since 2026-10-27). */
export const ZENDESK_API_TOKEN_RETIREMENT = '2027-04-30';

const ZendeskSettingsSchema = Type.Object(
  {
    subdomain: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL_PATTERN,
      description: 'The Zendesk subdomain: `acme` for https://acme.zendesk.com.',
    }),
    scopes: Type.Optional(
      Scopes(
        'OAuth client only: scopes to request, sent space separated (e.g. `tickets:read`, `users:write`; `read` and `write` cover everything).',
      ),
    ),
    expiresInSeconds: Type.Optional(
      Type.Integer({
        minimum: 300,
        maximum: 172_800,
        description:
          "OAuth client only: the access token lifetime to ask for (`expires_in`), 300 to 172,800 seconds; Zendesk's default when absent.",
      }),
    ),
    strictScopes: Type.Optional(StrictScopes),
  },
  { ...strictObject, description: 'Settings of a `zendesk` connection.' },
);
export type ZendeskSettings = Static<typeof ZendeskSettingsSchema>;

export const zendeskDefinition = defineConnectionType({
  type: 'zendesk',
  summary: `Zendesk API: OAuth access tokens minted from an OAuth client (client credentials, or a refresh token that Zendesk rotates at each use), a static OAuth token, or — until Zendesk deactivates them on ${ZENDESK_API_TOKEN_RETIREMENT} — an agent email with an API token.`,
  settings: { schema: ZendeskSettingsSchema, required: true },
  tokens: 'variant',
  variants: [
    {
      name: 'oauth-client',
      keys: ['clientId', 'clientSecret'],
      optionalKeys: ['refreshToken'],
      description:
        'A confidential OAuth client (its unique identifier and secret). Without `refreshToken`: the client credentials grant. With it (from an authorization code grant): the refresh token grant; Zendesk replaces both tokens at each refresh, and coffre persists the new refresh token before using the new access token.',
    },
    {
      name: 'api-token',
      keys: ['email', 'apiToken'],
      description: `Agent email and API token; published as basic-auth \`{email}/token\` and the token. Deprecated: Zendesk deactivates API tokens on ${ZENDESK_API_TOKEN_RETIREMENT} (Ready reason CredentialsRetiring and a Warning event say so).`,
    },
    { name: 'oauth-token', keys: ['accessToken'], description: 'A static OAuth access token.' },
  ],
  oauthClient: 'no',
  published: {
    base_url: 'https://{subdomain}.zendesk.com',
    username: 'api-token: `{email}/token`.',
    password: 'api-token: the API token.',
    ...tokenKeys,
  },
});
