// oauth2: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { HttpsUrl, Scopes, StringEnum, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, StrictScopes, tokenKeys } from '../definition.ts';

export const OAuthGrants = ['client_credentials', 'refresh_token'] as const;
export type OAuthGrant = (typeof OAuthGrants)[number];

const OAuth2SettingsSchema = Type.Object(
  {
    grant: Type.Optional(
      StringEnum(OAuthGrants, {
        description:
          'Grant used to obtain tokens. Defaults to `client_credentials`. With `refresh_token`, credentialsRef names a Secret with a `refreshToken` key; rotated refresh tokens are persisted by coffre.',
      }),
    ),
    audience: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'The API the token is for (the `audience` request parameter, as Auth0 names it).',
      }),
    ),
    resource: Type.Optional(
      Type.Array(HttpsUrl('Resource indicator (RFC 8707).'), {
        maxItems: 8,
        'x-kubernetes-list-type': 'set',
        description: 'Resource indicators (RFC 8707) to request the token for.',
      }),
    ),
    scopes: Type.Optional(Scopes('Scopes to request.')),
    strictScopes: Type.Optional(StrictScopes),
  },
  {
    ...strictObject,
    description: 'Settings of an `oauth2` connection (any OAuth 2.0 server, via an OAuthClient).',
  },
);
export type OAuth2Settings = Static<typeof OAuth2SettingsSchema>;

export const oauth2Definition = defineConnectionType({
  type: 'oauth2',
  summary:
    'Any OAuth 2.0 server through an OAuthClient: `client_credentials`, or `refresh_token` with the refresh token in the credentials Secret (rotations are persisted by coffre before the new token is used).',
  settings: { schema: OAuth2SettingsSchema, required: false },
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
});
