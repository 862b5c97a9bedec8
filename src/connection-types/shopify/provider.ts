// shopify: an admin API access token, or the client credentials grant of an app in its own organisation.
import { shopifyDefinition } from './definition.ts';
import { shopifyTokenAdapter } from './token-adapter.ts';
import { secret } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { staticBearer, trimmed } from '../../providers/shape.ts';

export const shopifyProvider: Provider<'shopify'> = {
  type: 'shopify',
  plan({ spec, credentials, config }: ProviderInput): Plan {
    const shopDomain = spec.shopify?.shopDomain ?? '';
    const match = matchVariant(shopifyDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const shop = secret(shopDomain);
    if (match.variant.name === 'admin-token') {
      return staticBearer(
        match,
        'accessToken',
        { pattern: /^shp[a-z]{2}_\S+$/, expected: 'must be a Shopify access token (shpat_...)' },
        [['shop_domain', shop]],
      );
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
        flavour: shopifyTokenAdapter.flavour,
      },
      publish: (token) => new Map([...publishToken(token), ['shop_domain', shop]]),
    };
  },
};
