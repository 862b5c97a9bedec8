// shopify: an admin API access token, the client credentials grant of an app in its own organisation,
// or an expiring offline token renewed with its rotating refresh token.
import { shopifyDefinition } from './definition.ts';
import { shopifyTokenAdapter } from './token-adapter.ts';
import { secret } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { staticBearer, trimmed } from '../../providers/shape.ts';

export const shopifyProvider: Provider<'shopify'> = {
  type: 'shopify',
  plan({ spec, credentials, rotatedRefreshToken, config }: ProviderInput): Plan {
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
    const refreshToken = match.values.has('refreshToken')
      ? (rotatedRefreshToken ?? trimmed(match.values, 'refreshToken'))
      : undefined;
    return {
      kind: 'token',
      variant: refreshToken === undefined ? 'client-credentials' : 'offline-token',
      request: {
        client: {
          issuer: new URL(base).origin,
          tokenEndpoint: `${base}/admin/oauth/access_token`,
          authMethod: 'client_secret_post',
          clientId: trimmed(match.values, 'clientId').reveal(),
          clientSecret: trimmed(match.values, 'clientSecret'),
        },
        grant:
          refreshToken === undefined
            ? { type: 'client_credentials' }
            : { type: 'refresh_token', refreshToken },
        // Not sent (Shopify takes no scope parameter): compared with the granted scope.
        ...(spec.shopify?.scopes === undefined ? {} : { scopes: spec.shopify.scopes }),
        flavour: shopifyTokenAdapter.flavour,
      },
      ...(refreshToken === undefined
        ? {}
        : {
            refreshTokenSource:
              rotatedRefreshToken === undefined ? ('credentials' as const) : ('rotated' as const),
          }),
      publish: (token) => new Map([...publishToken(token), ['shop_domain', shop]]),
    };
  },
};
