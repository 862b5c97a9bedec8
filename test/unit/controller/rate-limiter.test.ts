import { describe, expect, it } from 'vitest';
import { backoffDelay, KeyedBackoff, type BackoffPolicy } from '../../../src/controller/rate-limiter.ts';

const policy = (jitter: BackoffPolicy['jitter']): BackoffPolicy => ({
  baseMs: 500,
  maxMs: 300_000,
  jitter,
  maxRetryAfterMs: 3_600_000,
});

describe('backoffDelay', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [10, 256_000],
    [11, 300_000],
    [1000, 300_000],
  ])(
    'should double from the base and stop at the cap: failure %i waits %i ms without jitter',
    (failures, expected) => {
      expect(backoffDelay(failures, policy('none'), () => 0.5)).toBe(expected);
    },
  );

  it.each([
    ['full', 0, 1],
    ['equal', 0.5, 1],
  ] as const)('should keep %s jitter within [%d, %d] of the exponential delay', (jitter, low, high) => {
    for (let failures = 1; failures <= 20; failures++) {
      const ceiling = Math.min(300_000, 500 * 2 ** (failures - 1));
      for (const r of [0, 0.001, 0.25, 0.5, 0.75, 0.999999]) {
        const delay = backoffDelay(failures, policy(jitter), () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling * low));
        expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling * high));
      }
    }
  });

  it('should spread full jitter across the whole range', () => {
    expect(backoffDelay(5, policy('full'), () => 0)).toBe(0);
    expect(backoffDelay(5, policy('full'), () => 0.5)).toBe(4000);
  });

  it('should honour a Retry-After longer than the backoff, up to its bound', () => {
    expect(backoffDelay(1, policy('none'), () => 0, 30_000)).toBe(30_000);
    expect(backoffDelay(1, policy('none'), () => 0, 100)).toBe(500);
    expect(backoffDelay(1, policy('none'), () => 0, 10 * 3_600_000)).toBe(3_600_000);
  });
});

describe('KeyedBackoff', () => {
  it('should count failures per key and start again from the base once forgotten', () => {
    const backoff = new KeyedBackoff(policy('none'), () => 0);
    expect([backoff.next('a'), backoff.next('a'), backoff.next('a')]).toEqual([500, 1000, 2000]);
    expect(backoff.next('b')).toBe(500);
    expect(backoff.failures('a')).toBe(3);
    backoff.forget('a');
    expect(backoff.failures('a')).toBe(0);
    expect(backoff.next('a')).toBe(500);
    expect(backoff.size).toBe(2);
  });
});
