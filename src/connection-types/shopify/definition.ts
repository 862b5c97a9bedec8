// shopify: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { Scopes, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, StrictScopes, tokenKeys } from '../definition.ts';

const ShopifySettingsSchema = Type.Object(
  {
    shopDomain: Type.String({
      minLength: 15,
      maxLength: 253,
      pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$',
      description: 'The shop, e.g. `acme.myshopify.com`.',
    }),
    scopes: Type.Optional(
      Scopes(
        "The access scopes the token should carry, e.g. `read_orders`. Shopify's token endpoint takes no scope parameter (an app's scopes are set on its version in the Dev Dashboard), so coffre compares the granted `scope` with this list: a wider grant is a Warning event, and with `strictScopes` the token is not published (ScopesExceeded).",
      ),
    ),
    strictScopes: Type.Optional(StrictScopes),
  },
  { ...strictObject, description: 'Settings of a `shopify` connection.' },
);
export type ShopifySettings = Static<typeof ShopifySettingsSchema>;

export const shopifyDefinition = defineConnectionType({
  type: 'shopify',
  summary:
    'Shopify Admin API: an admin API access token, the client credentials grant of an app installed in its own organisation, or expiring offline tokens renewed with their rotating refresh token.',
  settings: { schema: ShopifySettingsSchema, required: true },
  tokens: 'variant',
  variants: [
    {
      name: 'app',
      keys: ['clientId', 'clientSecret'],
      optionalKeys: ['refreshToken'],
      description:
        "Client ID and secret of the app. Without `refreshToken`: the client credentials grant (tokens live about 24 hours). With it (an expiring offline token's refresh token): the refresh_token grant; tokens live 60 minutes and Shopify replaces the refresh token at each refresh, which coffre persists before using the new access token.",
    },
    { name: 'admin-token', keys: ['accessToken'], description: 'An admin API access token (shpat_...).' },
  ],
  oauthClient: 'no',
  published: {
    ...tokenKeys,
    shop_domain: 'The shop domain; send the token in the `X-Shopify-Access-Token` header.',
  },
});
