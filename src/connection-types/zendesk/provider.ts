// zendesk: an agent email with an API token, or an OAuth access token.
import { zendeskDefinition } from './definition.ts';
import { secret } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { staticBearer, WHITESPACE_FREE, checkShape, invalid, trimmed } from '../../providers/shape.ts';

export const zendeskProvider: Provider<'zendesk'> = {
  type: 'zendesk',
  plan({ spec, credentials }: ProviderInput): Plan {
    const match = matchVariant(zendeskDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const baseUrl = secret(`https://${spec.zendesk?.subdomain ?? ''}.zendesk.com`);
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
    };
  },
};
