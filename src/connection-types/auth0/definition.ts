// auth0: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { HostName, Scopes, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, StrictScopes, tokenKeys } from '../definition.ts';

const Auth0SettingsSchema = Type.Object(
  {
    domain: HostName(
      'Where tokens are requested (`https://{domain}/oauth/token`, no discovery, with `client_secret_post`: the client ID and secret in the form body): the tenant domain, e.g. `acme.eu.auth0.com`, or a custom domain, e.g. `login.acme.com`. A host name, optionally with a port; no scheme, no path. With `spec.oauthClientRef`, the OAuthClient decides endpoint and method instead.',
      'spec.auth0.domain',
    ),
    tenantDomain: Type.Optional(
      HostName(
        "The tenant's own domain, `{tenant}.{region}.auth0.com`, when `domain` is a custom domain: a custom domain does not change the Management API's identifier, so the default audience is taken from this one. Defaults to `domain`.",
        'spec.auth0.tenantDomain',
      ),
    ),
    audience: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description:
          'API identifier. Defaults to the Management API of the tenant: `https://{tenantDomain}/api/v2/` when `tenantDomain` is set, else `https://{domain}/api/v2/`. Set it for any other API (its identifier in the Auth0 Dashboard).',
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
