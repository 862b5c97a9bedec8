// shopify: an admin API access token, or the client credentials grant of an app in its own organisation.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { secret } from '../secrets/secret-value.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { publishToken } from './publish-token.ts';
import { checkShape, invalid, trimmed } from './shape.ts';

export const shopifyProvider: Provider = {
  type: 'shopify',
  plan({ spec, credentials, config }: ProviderInput): Plan {
    const shopDomain = spec.shopify?.shopDomain ?? '';
    const match = matchVariant(connectionTypes.shopify.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const shop = secret(shopDomain);
    if (match.variant.name === 'admin-token') {
      const token = trimmed(match.values, 'accessToken');
      const problem = checkShape(
        'accessToken',
        token,
        /^shp[a-z]{2}_\S+$/,
        'must be a Shopify access token (shpat_...)',
      );
      if (problem !== undefined) return invalid(problem);
      return {
        kind: 'static',
        variant: match.variant.name,
        data: new Map([
          ['access_token', token],
          ['token_type', secret('Bearer')],
          ['shop_domain', shop],
        ]),
      };
    }
    const base = config.shopifyBaseUrl.replace('{shop}', shopDomain).replace(/\/+$/, '');
    return {
      kind: 'token',
      variant: match.variant.name,
      request: {
        client: {
          issuer: new URL(base).origin,
          tokenEndpoint: `${base}/admin/oauth/access_token`,
          authMethod: 'client_secret_post',
          clientId: trimmed(match.values, 'clientId').reveal(),
          clientSecret: trimmed(match.values, 'clientSecret'),
        },
        grant: { type: 'client_credentials' },
        ...(spec.shopify?.scopes === undefined ? {} : { scopes: spec.shopify.scopes }),
        flavour: 'shopify',
      },
      publish: (token) => new Map([...publishToken(token), ['shop_domain', shop]]),
    };
  },
};
