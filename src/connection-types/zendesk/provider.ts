// zendesk: OAuth tokens minted from an OAuth client (client credentials, or a rotating refresh token),
// a static OAuth token, or an agent email with an API token (retiring: published with a warning).
import { ZENDESK_API_TOKEN_RETIREMENT, zendeskDefinition } from './definition.ts';
import { zendeskTokenAdapter } from './token-adapter.ts';
import { secret } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { staticBearer, WHITESPACE_FREE, checkShape, invalid, trimmed } from '../../providers/shape.ts';

export const API_TOKEN_RETIRING_MESSAGE = `Zendesk deactivates API tokens on ${ZENDESK_API_TOKEN_RETIREMENT} (no new ones since 2026-10-27): create an OAuth client and put clientId and clientSecret in the credentials Secret instead (docs/providers/zendesk.md)`;

export const zendeskProvider: Provider<'zendesk'> = {
  type: 'zendesk',
  plan({ spec, credentials, rotatedRefreshToken, config }: ProviderInput): Plan {
    const match = matchVariant(zendeskDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const settings = spec.zendesk;
    const base = config.zendeskBaseUrl.replace('{subdomain}', settings?.subdomain ?? '').replace(/\/+$/, '');
    const baseUrl = secret(`https://${settings?.subdomain ?? ''}.zendesk.com`);
    if (match.variant.name === 'oauth-client') {
      const seed = match.values.get('refreshToken');
      const refreshToken =
        seed === undefined ? undefined : (rotatedRefreshToken ?? trimmed(match.values, 'refreshToken'));
      return {
        kind: 'token',
        variant: refreshToken === undefined ? 'client-credentials' : 'refresh-token',
        request: {
          client: {
            issuer: new URL(base).origin,
            tokenEndpoint: `${base}/oauth/tokens`,
            authMethod: 'client_secret_post',
            clientId: trimmed(match.values, 'clientId').reveal(),
            clientSecret: trimmed(match.values, 'clientSecret'),
          },
          grant:
            refreshToken === undefined
              ? { type: 'client_credentials' }
              : { type: 'refresh_token', refreshToken },
          ...(settings?.scopes === undefined ? {} : { scopes: settings.scopes }),
          ...(settings?.expiresInSeconds === undefined
            ? {}
            : { expiresInSeconds: settings.expiresInSeconds }),
          flavour: zendeskTokenAdapter.flavour,
        },
        ...(refreshToken === undefined
          ? {}
          : {
              refreshTokenSource:
                rotatedRefreshToken === undefined ? ('credentials' as const) : ('rotated' as const),
            }),
        publish: (token) => new Map([['base_url', baseUrl], ...publishToken(token)]),
      };
    }
    if (match.variant.name === 'oauth-token') {
      return staticBearer(match, 'accessToken', WHITESPACE_FREE, [['base_url', baseUrl]]);
    }
    const email = trimmed(match.values, 'email');
    const apiToken = trimmed(match.values, 'apiToken');
    const problem = checkShape('email', email, /^[^@\s:]+@[^@\s:]+$/, 'must be an email address');
    if (problem !== undefined) return invalid(problem);
    return {
      kind: 'static',
      variant: match.variant.name,
      data: new Map([
        ['base_url', baseUrl],
        ['username', secret(`${email.reveal()}/token`)],
        ['password', apiToken],
      ]),
      retiring: API_TOKEN_RETIRING_MESSAGE,
    };
  },
};
