// apiKey: a plain API key, published as `api_key`.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { NO_INNER_WHITESPACE, checkShape, invalid, trimmed } from './shape.ts';

export const apiKeyProvider: Provider = {
  type: 'apiKey',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.apiKey.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const apiKey = trimmed(match.values, 'apiKey');
    const problem = checkShape('apiKey', apiKey, NO_INNER_WHITESPACE, 'must not contain whitespace');
    if (problem !== undefined) return invalid(problem);
    return { kind: 'static', variant: match.variant.name, data: new Map([['api_key', apiKey]]) };
  },
};
