// bearerToken: a static bearer token.
import { bearerTokenDefinition } from './definition.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { staticBearer, WHITESPACE_FREE } from '../../providers/shape.ts';

export const bearerTokenProvider: Provider<'bearerToken'> = {
  type: 'bearerToken',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(bearerTokenDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    return staticBearer(match, 'token', WHITESPACE_FREE);
  },
};
