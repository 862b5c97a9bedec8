// shopify: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { Scopes, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType, tokenKeys } from '../definition.ts';

const ShopifySettingsSchema = Type.Object(
  {
    shopDomain: Type.String({
      minLength: 15,
      maxLength: 253,
      pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$',
      description: 'The shop, e.g. `acme.myshopify.com`.',
    }),
    scopes: Type.Optional(Scopes('Scopes to request with the client credentials grant.')),
  },
  { ...strictObject, description: 'Settings of a `shopify` connection.' },
);
export type ShopifySettings = Static<typeof ShopifySettingsSchema>;

export const shopifyDefinition = defineConnectionType({
  type: 'shopify',
  summary:
    'Shopify Admin API: an admin API access token, or the client credentials grant of an app installed in its own organisation.',
  settings: { schema: ShopifySettingsSchema, required: true },
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
});
