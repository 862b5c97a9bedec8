// slack: a bot token, or rotating tokens renewed through oauth.v2.access with the refresh token.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { secret } from '../secrets/secret-value.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { publishToken } from './publish-token.ts';
import { checkShape, invalid, trimmed } from './shape.ts';

export const slackProvider: Provider = {
  type: 'slack',
  plan({ credentials, rotatedRefreshToken, config }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.slack.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    if (match.variant.name === 'bot-token') {
      const token = trimmed(match.values, 'botToken');
      const problem = checkShape('botToken', token, /^xox[a-z]-\S+$/, 'must be a Slack token (xoxb-...)');
      if (problem !== undefined) return invalid(problem);
      return {
        kind: 'static',
        variant: match.variant.name,
        data: new Map([
          ['access_token', token],
          ['token_type', secret('Bearer')],
        ]),
      };
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
        flavour: 'slack',
      },
      refreshTokenSource: rotatedRefreshToken === undefined ? 'credentials' : 'rotated',
      // Slack reports token_type "bot"; consumers send it as a bearer token.
      publish: (token) => publishToken({ ...token, tokenType: 'Bearer' }),
    };
  },
};
