// oauth2: any OAuth 2.0 server through an OAuthClient, with the client credentials or refresh token grant.
import { oauth2Definition } from './definition.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { trimmed } from '../../providers/shape.ts';

export const oauth2Provider: Provider<'oauth2'> = {
  type: 'oauth2',
  plan({ spec, credentials, oauthClient, rotatedRefreshToken }: ProviderInput): Plan {
    const settings = spec.oauth2;
    if (oauthClient === undefined) return { kind: 'missing', keys: [], variant: 'oauth-client' };
    const extra = {
      ...(settings?.audience === undefined ? {} : { audience: settings.audience }),
      ...(settings?.resource === undefined ? {} : { resource: settings.resource }),
      ...(settings?.scopes === undefined ? {} : { scopes: settings.scopes }),
    };
    if ((settings?.grant ?? 'client_credentials') === 'client_credentials') {
      return {
        kind: 'token',
        variant: 'client-credentials',
        request: { client: oauthClient, grant: { type: 'client_credentials' }, ...extra },
        publish: (token) => publishToken(token),
      };
    }
    let refreshToken = rotatedRefreshToken;
    if (refreshToken === undefined) {
      const match = matchVariant(oauth2Definition.variants, credentials);
      if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
      refreshToken = trimmed(match.values, 'refreshToken');
    }
    return {
      kind: 'token',
      variant: 'refresh-token',
      request: { client: oauthClient, grant: { type: 'refresh_token', refreshToken }, ...extra },
      refreshTokenSource: rotatedRefreshToken === undefined ? 'credentials' : 'rotated',
      publish: (token) => publishToken(token),
    };
  },
};
