// bearerToken: a static bearer token.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { secret } from '../secrets/secret-value.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { NO_INNER_WHITESPACE, checkShape, invalid, trimmed } from './shape.ts';

export const bearerTokenProvider: Provider = {
  type: 'bearerToken',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.bearerToken.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const token = trimmed(match.values, 'token');
    const problem = checkShape('token', token, NO_INNER_WHITESPACE, 'must not contain whitespace');
    if (problem !== undefined) return invalid(problem);
    return {
      kind: 'static',
      variant: match.variant.name,
      data: new Map([
        ['access_token', token],
        ['token_type', secret('Bearer')],
      ]),
    };
  },
};
