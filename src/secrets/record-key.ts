// The record key: an HMAC key only the operator holds (kept in a Secret of the operator's namespace).
// coffre signs what it records about a published token with it, so that after a restart it trusts a
// target Secret only if coffre itself wrote it as it stands: a token planted in the Secret, or an
// `expires-at` annotation edited by hand to suppress renewal, breaks the signature. It also keys the
// value put on workloads' pod templates (`restarted-for`), which viewers can read: a plain hash of the
// published data there would let them test guesses of a secret offline.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

/** Bytes of a freshly generated key. */
export const RECORD_KEY_BYTES = 32;

export interface RecordKey {
  /** Hex HMAC-SHA256 of the parts under a purpose (domain separation). */
  mac(purpose: string, parts: readonly string[]): string;
  /** Whether `signature` is mac(purpose, parts), compared in constant time. */
  verify(purpose: string, parts: readonly string[], signature: string): boolean;
}

export function createRecordKey(bytes: Uint8Array): RecordKey {
  if (bytes.length < 16) throw new RangeError(`a record key needs at least 16 bytes, got ${bytes.length}`);
  // A KeyObject made once: given raw bytes, createHmac builds one on every call (7x the cost of the MAC,
  // which coffre computes a few dozen times per reconcile).
  const key = createSecretKey(Buffer.from(bytes));
  const mac = (purpose: string, parts: readonly string[]) => {
    const hmac = createHmac('sha256', key).update(`coffre/${purpose}/v1`);
    // Length-prefixed, so that no two different part lists feed the same bytes.
    for (const part of parts) hmac.update(`\u0000${Buffer.byteLength(part)}:`).update(part);
    return hmac.digest('hex');
  };
  return {
    mac,
    verify(purpose, parts, signature) {
      const expected = Buffer.from(mac(purpose, parts), 'hex');
      const given = Buffer.from(signature, 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
