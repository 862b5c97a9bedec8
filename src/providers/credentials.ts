// Choosing the credential variant of a connection type from the keys present in its credentials Secret.
import type { CredentialVariant } from '../connection-types/definitions.ts';
import type { SecretValue } from '../secrets/secret-value.ts';

export type VariantMatch =
  | { ok: true; variant: CredentialVariant; values: ReadonlyMap<string, SecretValue> }
  | { ok: false; missing: string[]; variantName: string };

/** The first variant whose keys are all present and non-blank; else the keys the closest variant lacks. */
export function matchVariant(
  variants: readonly CredentialVariant[],
  data: ReadonlyMap<string, SecretValue>,
): VariantMatch {
  const present = (key: string) => data.get(key)?.isBlank === false;
  for (const variant of variants) {
    if (variant.keys.every(present)) {
      const values = new Map<string, SecretValue>();
      for (const key of [...variant.keys, ...(variant.optionalKeys ?? [])]) {
        const value = data.get(key);
        if (value !== undefined && !value.isBlank) values.set(key, value);
      }
      return { ok: true, variant, values };
    }
  }
  let closest = variants[0];
  let closestScore = -1;
  for (const variant of variants) {
    const score = variant.keys.filter(present).length / variant.keys.length;
    if (score > closestScore) {
      closest = variant;
      closestScore = score;
    }
  }
  return {
    ok: false,
    missing: (closest?.keys ?? []).filter((key) => !present(key)),
    variantName: closest?.name ?? '',
  };
}
