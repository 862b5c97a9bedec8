// bearerToken: a static bearer token.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { staticBearer, WHITESPACE_FREE } from './shape.ts';

export const bearerTokenProvider: Provider = {
  type: 'bearerToken',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.bearerToken.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    return staticBearer(match, 'token', WHITESPACE_FREE);
  },
};
