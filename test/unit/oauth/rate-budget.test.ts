import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { OAuthError } from '../../../src/oauth/errors.ts';
import { createRateBudget, type Permit } from '../../../src/oauth/rate-budget.ts';

const host = 'idp.example';

/** Starts acquire() calls and records which have resolved. */
function track(promises: Promise<Permit>[]) {
  const granted: Permit[] = [];
  const failed: unknown[] = [];
  for (const promise of promises)
    promise.then(
      (p) => granted.push(p),
      (e: unknown) => failed.push(e),
    );
  return { granted, failed };
}

describe('createRateBudget', () => {
  it('keeps at most maxConcurrent requests in flight per host', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, maxConcurrent: 4, ratePerSecond: 100, burst: 100 });
    const { granted } = track(Array.from({ length: 6 }, () => budget.acquire(host)));
    await clock.advance(0);
    expect(granted).toHaveLength(4);
    expect(budget.state(host)).toMatchObject({ inFlight: 4, queued: 2 });
    granted[0]?.release();
    granted[0]?.release(); // idempotent
    await clock.advance(0);
    expect(granted).toHaveLength(5);
    expect(budget.state(host).inFlight).toBe(4);
  });

  it('does not queue callers behind a host whose every slot is stuck (a black hole: found by npm run chaos)', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({
      clock,
      maxConcurrent: 2,
      maxWaitMs: 2000,
      ratePerSecond: 100,
      burst: 100,
    });
    const stuck = [await budget.acquire(host), await budget.acquire(host)];
    // A busy host: a caller waits for a slot.
    const waiting = track([budget.acquire(host)]);
    await clock.advance(1000);
    expect(budget.state(host).queued).toBe(1);
    // Both requests have now been in flight for longer than a caller may wait: later callers are told
    // to come back at once instead of holding a worker for nothing.
    await clock.advance(1000);
    const error = await budget.acquire(host).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 2000 });
    expect(budget.state(host).queued).toBe(0);
    expect(waiting.failed).toHaveLength(1);
    // Once a request ends, callers get slots again.
    stuck[0]?.release();
    await expect(budget.acquire(host)).resolves.toBeDefined();
  });

  it('does not let one host hold up another', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, maxConcurrent: 1 });
    await budget.acquire(host);
    await expect(budget.acquire('other.example')).resolves.toBeDefined();
  });

  it('spends a burst, then paces requests at the configured rate', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({
      clock,
      maxConcurrent: 100,
      ratePerSecond: 10,
      burst: 3,
      maxWaitMs: 10_000,
    });
    const { granted } = track(Array.from({ length: 5 }, () => budget.acquire(host)));
    await clock.advance(0);
    expect(granted).toHaveLength(3);
    await clock.advance(99);
    expect(granted).toHaveLength(3);
    await clock.advance(1);
    expect(granted).toHaveLength(4);
    await clock.advance(100);
    expect(granted).toHaveLength(5);
  });

  it('answers rate_limited instead of waiting beyond maxWaitMs', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, maxConcurrent: 1, maxWaitMs: 500 });
    await budget.acquire(host);
    const { failed } = track([budget.acquire(host)]);
    await clock.advance(500);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(OAuthError);
    expect(failed[0]).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 500 });
  });

  it('holds the host until Retry-After after a 429, failing fast meanwhile', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock });
    budget.penalize(host, 30_000);
    await expect(budget.acquire(host)).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 30_000 });
    await clock.advance(10_000);
    await expect(budget.acquire(host)).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 20_000 });
    expect(budget.state(host).heldUntil).toBe(clock.now() + 20_000);
  });

  it('rejects callers already queued when a 429 arrives', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, maxConcurrent: 1 });
    const first = await budget.acquire(host);
    const { failed } = track([budget.acquire(host)]);
    budget.penalize(host, 5_000);
    await clock.advance(0);
    expect(failed[0]).toMatchObject({ code: 'rate_limited', retryAfterMs: 5_000 });
    first.release();
  });

  it('holds for the default penalty when the 429 has no Retry-After', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, defaultPenaltyMs: 2_000 });
    budget.penalize(host);
    await expect(budget.acquire(host)).rejects.toMatchObject({ retryAfterMs: 2_000 });
  });

  it('halves the rate after a 429 and restores it gradually', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, ratePerSecond: 10, recoveryMs: 60_000 });
    budget.penalize(host, 1_000);
    expect(budget.state(host).ratePerSecond).toBe(0);
    await clock.advance(1_000);
    expect(budget.state(host).ratePerSecond).toBe(5);
    await clock.advance(30_000);
    expect(budget.state(host).ratePerSecond).toBeCloseTo(7.5);
    await clock.advance(30_000);
    expect(budget.state(host).ratePerSecond).toBe(10);
  });

  it('earns no tokens while held; lets one request through when the hold ends, then paces slowly', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({
      clock,
      ratePerSecond: 10,
      burst: 20,
      maxConcurrent: 100,
      maxWaitMs: 60_000,
    });
    budget.penalize(host, 10_000);
    await clock.advance(10_000);
    const { granted } = track([budget.acquire(host), budget.acquire(host)]);
    await clock.advance(0);
    expect(granted).toHaveLength(1);
    // At 5 req/s (halved), the next token takes 200 ms.
    await clock.advance(150);
    expect(granted).toHaveLength(1);
    await clock.advance(60);
    expect(granted).toHaveLength(2);
  });

  it('slows down further on repeated 429s, never below the floor', () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, ratePerSecond: 1, minRatePerSecond: 0.2 });
    for (let i = 0; i < 5; i++) budget.penalize(host, 0);
    expect(budget.state(host).ratePerSecond).toBe(0.2);
  });

  it('refuses callers beyond maxQueue at once', async () => {
    const clock = new FakeClock();
    const budget = createRateBudget({ clock, maxConcurrent: 1, maxQueue: 1 });
    await budget.acquire(host);
    track([budget.acquire(host)]);
    await expect(budget.acquire(host)).rejects.toMatchObject({ code: 'rate_limited' });
    budget.close();
  });
});
