// zendesk: an agent email with an API token, or an OAuth access token.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { secret } from '../secrets/secret-value.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { NO_INNER_WHITESPACE, checkShape, invalid, trimmed } from './shape.ts';

export const zendeskProvider: Provider = {
  type: 'zendesk',
  plan({ spec, credentials }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.zendesk.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const baseUrl = secret(`https://${spec.zendesk?.subdomain ?? ''}.zendesk.com`);
    if (match.variant.name === 'oauth-token') {
      const token = trimmed(match.values, 'accessToken');
      const problem = checkShape('accessToken', token, NO_INNER_WHITESPACE, 'must not contain whitespace');
      if (problem !== undefined) return invalid(problem);
      return {
        kind: 'static',
        variant: match.variant.name,
        data: new Map([
          ['base_url', baseUrl],
          ['access_token', token],
          ['token_type', secret('Bearer')],
        ]),
      };
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
