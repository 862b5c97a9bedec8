// auth0: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { HostName, Scopes, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, StrictScopes, tokenKeys } from '../definition.ts';

const Auth0SettingsSchema = Type.Object(
  {
    domain: HostName(
      'Tenant domain of the M2M application, e.g. `acme.eu.auth0.com` (no scheme). Tokens are requested from `https://{domain}/oauth/token` (no discovery) with `client_secret_post`: the client ID and secret in the form body. With `spec.oauthClientRef`, the OAuthClient decides endpoint and method instead.',
    ),
    audience: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description:
          'API identifier. Defaults to the Management API of the tenant: `https://{domain}/api/v2/`.',
      }),
    ),
    scopes: Type.Optional(Scopes('Scopes to request, least privilege first: e.g. `read:users`.')),
    strictScopes: Type.Optional(StrictScopes),
  },
  { ...strictObject, description: 'Settings of an `auth0` connection (client credentials, M2M).' },
);
export type Auth0Settings = Static<typeof Auth0SettingsSchema>;

export const auth0Definition = defineConnectionType({
  type: 'auth0',
  summary:
    'Auth0 Management API (or any Auth0 API) through an M2M application: client credentials grant, a new token minted before the old one expires (Auth0 gives M2M applications no refresh token).',
  settings: { schema: Auth0SettingsSchema, required: true },
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
});
