// auth0: an M2M application's client credentials grant; the audience defaults to the tenant's Management
// API, whose identifier keeps the tenant's own domain when tokens come through a custom domain.
import { auth0Definition } from './definition.ts';
import type { ClientConfig } from '../../oauth/index.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { trimmed } from '../../providers/shape.ts';

export const auth0Provider: Provider<'auth0'> = {
  type: 'auth0',
  plan({ spec, credentials, oauthClient }: ProviderInput): Plan {
    const settings = spec.auth0;
    const domain = settings?.domain ?? '';
    let client: ClientConfig;
    if (oauthClient !== undefined) {
      client = oauthClient;
    } else {
      const match = matchVariant(auth0Definition.variants, credentials);
      if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
      client = {
        issuer: `https://${domain}/`,
        tokenEndpoint: `https://${domain}/oauth/token`,
        // Auth0's M2M applications authenticate with client_secret_post by default.
        authMethod: 'client_secret_post',
        clientId: trimmed(match.values, 'clientId').reveal(),
        clientSecret: trimmed(match.values, 'clientSecret'),
      };
    }
    return {
      kind: 'token',
      variant: oauthClient === undefined ? 'm2m' : 'oauth-client',
      request: {
        client,
        grant: { type: 'client_credentials' },
        // A custom domain serves tokens, but the Management API keeps the tenant's own identifier.
        audience: settings?.audience ?? `https://${settings?.tenantDomain ?? domain}/api/v2/`,
        ...(settings?.scopes === undefined ? {} : { scopes: settings.scopes }),
      },
      publish: (token) => publishToken(token),
    };
  },
};
