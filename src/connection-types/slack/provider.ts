// slack: a bot token, or rotating tokens renewed through oauth.v2.access with the refresh token.
import { slackDefinition } from './definition.ts';
import { slackTokenAdapter } from './token-adapter.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { staticBearer, trimmed } from '../../providers/shape.ts';

export const slackProvider: Provider<'slack'> = {
  type: 'slack',
  plan({ credentials, rotatedRefreshToken, config }: ProviderInput): Plan {
    const match = matchVariant(slackDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    if (match.variant.name === 'bot-token') {
      return staticBearer(match, 'botToken', {
        pattern: /^xox[a-z]-\S+$/,
        expected: 'must be a Slack token (xoxb-...)',
      });
    }
    const refreshToken = rotatedRefreshToken ?? trimmed(match.values, 'refreshToken');
    const base = config.slackApiBaseUrl.replace(/\/+$/, '');
    return {
      kind: 'token',
      variant: match.variant.name,
      request: {
        client: {
          issuer: new URL(base).origin,
          tokenEndpoint: `${base}/oauth.v2.access`,
          authMethod: 'client_secret_post',
          clientId: trimmed(match.values, 'clientId').reveal(),
          clientSecret: trimmed(match.values, 'clientSecret'),
        },
        grant: { type: 'refresh_token', refreshToken },
        flavour: slackTokenAdapter.flavour,
      },
      refreshTokenSource: rotatedRefreshToken === undefined ? 'credentials' : 'rotated',
      // Slack reports token_type "bot"; consumers send it as a bearer token.
      publish: (token) => publishToken({ ...token, tokenType: 'Bearer' }),
    };
  },
};
