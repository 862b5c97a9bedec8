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
