// The API client's dispatcher reuse: a new pool only when the TLS or proxy options really changed.
import { describe, expect, it } from 'vitest';
import { sameOptions } from '../../../src/controller/kube-http.ts';

describe('sameOptions', () => {
  const lookup = () => undefined;
  const options = (cert = 'CERT') => ({
    type: 'direct',
    connect: { ca: Buffer.from('CA'), cert: Buffer.from(cert), key: Buffer.from('KEY'), lookup },
  });

  it.each([
    ['the same options read again (fresh Buffers)', options(), options(), true],
    ['a rotated client certificate', options(), options('CERT2'), false],
    ['an absent key and an undefined one', { a: 1 }, { a: 1, b: undefined }, true],
    ['another function', { lookup }, { lookup: () => undefined }, false],
    ['an array of CAs, in order', { ca: ['a', 'b'] }, { ca: ['b', 'a'] }, false],
    ['a Buffer and a string', { ca: Buffer.from('a') }, { ca: 'a' }, false],
    ['nothing before', options(), undefined, false],
  ])('%s', (_name, a, b, same) => {
    expect(sameOptions(a, b)).toBe(same);
  });
});
