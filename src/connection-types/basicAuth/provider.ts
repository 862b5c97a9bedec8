// basicAuth: a user name and password, also published as a ready-made Authorization value.
import { basicAuthDefinition } from './definition.ts';
import { secret, type SecretValue } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { checkShape, invalid, trimmed } from '../../providers/shape.ts';

function basicAuthorization(username: SecretValue, password: SecretValue): SecretValue {
  return secret(`Basic ${Buffer.from(`${username.reveal()}:${password.reveal()}`).toString('base64')}`);
}

export const basicAuthProvider: Provider<'basicAuth'> = {
  type: 'basicAuth',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(basicAuthDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const username = trimmed(match.values, 'username');
    // The password is published as given: spaces may be part of it.
    const password = match.values.get('password') ?? secret('');
    // RFC 7617: the user-id cannot contain a colon.
    const problem = checkShape(
      'username',
      username,
      /^[^:\r\n]+$/,
      'must not contain a colon or a line break',
    );
    if (problem !== undefined) return invalid(problem);
    return {
      kind: 'static',
      variant: match.variant.name,
      data: new Map([
        ['username', username],
        ['password', password],
        ['authorization', basicAuthorization(username, password)],
      ]),
    };
  },
};
