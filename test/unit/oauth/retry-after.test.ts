import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/oauth/retry-after.ts';

const now = Date.parse('2026-11-22T12:00:00Z');
const nowSeconds = now / 1000;

describe('parseRetryAfter', () => {
  it.each<[string, Record<string, string>, number | undefined]>([
    ['nothing when no header is there', {}, undefined],
    ['Retry-After delay-seconds', { 'retry-after': '7' }, 7_000],
    ['Retry-After zero', { 'retry-after': '0' }, 0],
    ['Retry-After with spaces', { 'retry-after': ' 3 ' }, 3_000],
    ['Retry-After HTTP-date in the future', { 'retry-after': 'Sun, 22 Nov 2026 12:00:30 GMT' }, 30_000],
    ['Retry-After HTTP-date in the past as zero', { 'retry-after': 'Sun, 22 Nov 2026 11:00:00 GMT' }, 0],
    ['nothing for a garbage Retry-After', { 'retry-after': 'soon' }, undefined],
    ['nothing for a negative Retry-After', { 'retry-after': '-5' }, undefined],
    ['x-ratelimit-reset as epoch seconds', { 'x-ratelimit-reset': String(nowSeconds + 42) }, 42_000],
    ['x-ratelimit-reset as epoch milliseconds', { 'x-ratelimit-reset': String(now + 1_500) }, 1_500],
    ['x-ratelimit-reset as delta seconds', { 'x-ratelimit-reset': '12' }, 12_000],
    ['x-ratelimit-reset as fractional delta seconds', { 'x-ratelimit-reset': '1.5' }, 1_500],
    ['x-ratelimit-reset in the past as zero', { 'x-ratelimit-reset': String(nowSeconds - 100) }, 0],
    ['ratelimit-reset (IETF draft) as delta seconds', { 'ratelimit-reset': '9' }, 9_000],
    ['Retry-After over x-ratelimit-reset', { 'retry-after': '2', 'x-ratelimit-reset': '50' }, 2_000],
    [
      'x-ratelimit-reset when Retry-After is unusable',
      { 'retry-after': 'x', 'x-ratelimit-reset': '5' },
      5_000,
    ],
    ['a clamp for absurd delays', { 'retry-after': '999999999' }, DEFAULT_MAX_RETRY_AFTER_MS],
  ])('reads %s', (_name, headers, expected) => {
    expect(parseRetryAfter(new Headers(headers), now)).toBe(expected);
  });

  it('clamps to a caller-chosen maximum', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '120' }), now, 60_000)).toBe(60_000);
  });
});
