// Hashes over Secret data. The data hash changes only when the published data does (key order does not
// matter). The request fingerprint binds a token to what it was requested with; credentials enter it only
// through a salted digest, never as such.
import { createHash } from 'node:crypto';
import type { SecretValue } from './secret-value.ts';

export function dataHash(data: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const entries = isMap(data) ? [...data.entries()] : Object.entries(data);
  const hash = createHash('sha256');
  for (const [key, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`${key.length}:${key}`);
    hash.update(`${Buffer.byteLength(value)}:`);
    hash.update(value);
  }
  return hash.digest('hex');
}

function isMap(data: unknown): data is ReadonlyMap<string, string> {
  return data instanceof Map;
}

/** A fingerprint of a token request; `salt` (e.g. the connection UID) keeps equal inputs unlinkable across objects. */
export function requestFingerprint(
  salt: string,
  parts: readonly (string | readonly string[] | SecretValue | undefined)[],
): string {
  const hash = createHash('sha256');
  hash.update(`coffre/request/v1\u0000${salt}`);
  for (const part of parts) {
    hash.update('\u0000');
    if (part === undefined) hash.update('-');
    else if (typeof part === 'string') hash.update(`s${part}`);
    else if (Array.isArray(part)) hash.update(`a${(part as readonly string[]).join('\u0001')}`);
    else hash.update(`k${(part as SecretValue).reveal()}`);
  }
  return hash.digest('hex').slice(0, 32);
}
