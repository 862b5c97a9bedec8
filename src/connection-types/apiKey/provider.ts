// apiKey: a plain API key, published as `api_key`.
import { apiKeyDefinition } from './definition.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { NO_INNER_WHITESPACE, checkShape, invalid, trimmed } from '../../providers/shape.ts';

export const apiKeyProvider: Provider<'apiKey'> = {
  type: 'apiKey',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(apiKeyDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const apiKey = trimmed(match.values, 'apiKey');
    const problem = checkShape('apiKey', apiKey, NO_INNER_WHITESPACE, 'must not contain whitespace');
    if (problem !== undefined) return invalid(problem);
    return { kind: 'static', variant: match.variant.name, data: new Map([['api_key', apiKey]]) };
  },
};
