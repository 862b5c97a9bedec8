// Helpers shared by providers: normalising and shape-checking credential values. Messages name the key
// of the credentials Secret, never its value.
import { secret, type SecretValue } from '../secrets/secret-value.ts';
import type { Plan } from './provider.ts';

/** The trimmed value of a present key (matchVariant guarantees presence). */
export function trimmed(values: ReadonlyMap<string, SecretValue>, key: string): SecretValue {
  return secret((values.get(key)?.reveal() ?? '').trim());
}

export function invalid(message: string): Plan {
  return { kind: 'invalid', message };
}

/** Checks a value's shape; returns a message naming the key (never the value) when it does not fit. */
export function checkShape(
  key: string,
  value: SecretValue,
  pattern: RegExp,
  expected: string,
): string | undefined {
  return pattern.test(value.reveal()) ? undefined : `key ${key} of the credentials Secret ${expected}`;
}

export const NO_INNER_WHITESPACE = /^\S+$/;

/**
 * A static bearer token read from `key` of the matched credentials, shape-checked, published as
 * `access_token` and `token_type: Bearer` with any `extra` keys (bearerToken, Slack bot tokens,
 * Shopify admin tokens, Zendesk OAuth tokens).
 */
export function staticBearer(
  match: { variant: { name: string }; values: ReadonlyMap<string, SecretValue> },
  key: string,
  shape: { pattern: RegExp; expected: string },
  extra: readonly [string, SecretValue][] = [],
): Plan {
  const token = trimmed(match.values, key);
  const problem = checkShape(key, token, shape.pattern, shape.expected);
  if (problem !== undefined) return invalid(problem);
  return {
    kind: 'static',
    variant: match.variant.name,
    data: new Map([...extra, ['access_token', token], ['token_type', secret('Bearer')]]),
  };
}

export const WHITESPACE_FREE = { pattern: NO_INNER_WHITESPACE, expected: 'must not contain whitespace' };
