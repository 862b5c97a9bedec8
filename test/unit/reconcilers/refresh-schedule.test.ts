import { describe, expect, it } from 'vitest';
import {
  JITTER_SHARE,
  jitterFraction,
  nextRefreshAt,
  parseDuration,
  renewalWindowMs,
} from '../../../src/reconcilers/vault-connection/refresh-schedule.ts';

const HOUR = 3_600_000;

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '10 m', 'm10', '1h 30m', '-5s', '1d'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('renewal window', () => {
  it.each([
    ['defaults to a third of the lifetime', HOUR, undefined, HOUR * 0.33],
    ['follows renewBeforePercentage', HOUR, { renewBeforePercentage: 50 }, HOUR / 2],
    ['follows renewBefore', HOUR, { renewBefore: '10m' }, 600_000],
    ['caps renewBefore at two thirds of the lifetime', 60_000, { renewBefore: '10m' }, 40_000],
    ['keeps at least a one-second margin for short lifetimes', 2000, undefined, 1000],
    ['keeps at most half the lifetime as that margin', 1200, undefined, 600],
  ])('%s', (_title, lifetime, settings, expected) => {
    expect(renewalWindowMs(lifetime, settings)).toBeCloseTo(expected, 6);
  });
});

describe('nextRefreshAt', () => {
  const issuedAt = Date.parse('2026-11-22T12:00:00Z');

  it('renews before expiry, earlier by at most the jitter share of the window', () => {
    for (let i = 0; i < 200; i++) {
      const at = nextRefreshAt({
        issuedAt,
        expiresAt: issuedAt + HOUR,
        settings: undefined,
        jitterSeed: `uid-${i}`,
      });
      const latest = issuedAt + HOUR - HOUR * 0.33;
      expect(at).toBeLessThanOrEqual(latest);
      expect(at).toBeGreaterThanOrEqual(latest - HOUR * 0.33 * JITTER_SHARE - 1);
    }
  });

  it('spreads connections issued at the same moment', () => {
    const moments = new Set(
      Array.from({ length: 100 }, (_, i) =>
        nextRefreshAt({ issuedAt, expiresAt: issuedAt + HOUR, settings: undefined, jitterSeed: `uid-${i}` }),
      ),
    );
    expect(moments.size).toBeGreaterThan(90);
  });

  it('is the same for the same seed (a restart computes the same schedule)', () => {
    const input = { issuedAt, expiresAt: issuedAt + HOUR, settings: undefined, jitterSeed: 'uid-a' };
    expect(nextRefreshAt(input)).toBe(nextRefreshAt({ ...input }));
  });

  it('renews a 2-second token well before it expires', () => {
    const at = nextRefreshAt({ issuedAt, expiresAt: issuedAt + 2000, settings: undefined, jitterSeed: 'x' });
    expect(at - issuedAt).toBeGreaterThanOrEqual(500);
    expect(issuedAt + 2000 - at).toBeGreaterThanOrEqual(600);
  });

  it('never renews sooner than 500 ms after issue, even when asked to renew 90% before expiry', () => {
    const at = nextRefreshAt({
      issuedAt,
      expiresAt: issuedAt + 1000,
      settings: { renewBeforePercentage: 90 },
      jitterSeed: 'x',
    });
    expect(at).toBe(issuedAt + 500);
  });

  it('renews at once a token that was issued already expired', () => {
    expect(nextRefreshAt({ issuedAt, expiresAt: issuedAt - 1, settings: undefined, jitterSeed: 'x' })).toBe(
      issuedAt,
    );
  });

  it('draws jitter uniformly enough from seeds', () => {
    const fractions = Array.from({ length: 1000 }, (_, i) => jitterFraction(String(i)));
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Math.min(...fractions)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...fractions)).toBeLessThan(1);
  });
});
