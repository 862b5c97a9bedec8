import { describe, expect, it } from 'vitest';
import { createRecordKey } from '../../../src/secrets/record-key.ts';

const key = createRecordKey(new Uint8Array(32).fill(1));
const other = createRecordKey(new Uint8Array(32).fill(2));

describe('record key', () => {
  it('should verify what it signed', () => {
    const signature = key.mac('record', ['uid', 'a', 'b']);
    expect(key.verify('record', ['uid', 'a', 'b'], signature)).toBe(true);
  });

  it.each<[string, string, string[]]>([
    ['a changed part', 'record', ['uid', 'a', 'c']],
    ['parts shifted across a boundary', 'record', ['uid', 'ab', '']],
    ['an extra part', 'record', ['uid', 'a', 'b', '']],
    ['another purpose', 'restarted-for', ['uid', 'a', 'b']],
  ])('should refuse %s', (_what, purpose, parts) => {
    expect(key.verify(purpose, parts, key.mac('record', ['uid', 'a', 'b']))).toBe(false);
  });

  it('should refuse a signature made with another key, or malformed', () => {
    expect(key.verify('record', ['x'], other.mac('record', ['x']))).toBe(false);
    expect(key.verify('record', ['x'], 'not-hex')).toBe(false);
    expect(key.verify('record', ['x'], '')).toBe(false);
  });

  it('should refuse a key too short to be secret', () => {
    expect(() => createRecordKey(new Uint8Array(8))).toThrow(RangeError);
  });
});
