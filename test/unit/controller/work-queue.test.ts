import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.ts';
import { KeyBackoff } from '../../../src/controller/rate-limiter.ts';
import { WorkQueue } from '../../../src/controller/work-queue.ts';

async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.depth > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  it('should hand out a key added many times once', async () => {
    const queue = new WorkQueue(new FakeClock());
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(await drain(queue)).toEqual(['a', 'b']);
  });

  it('should never hand a key to two workers: a key added while processing runs again after done', async () => {
    const queue = new WorkQueue(new FakeClock());
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.depth).toBe(0);
    expect(queue.isProcessing('a')).toBe(true);
    queue.done(first ?? '');
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('should wake a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue(new FakeClock());
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  it('should add a key after its delay', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue(clock);
    queue.addAfter('a', 1000);
    await clock.advance(999);
    expect(queue.depth).toBe(0);
    await clock.advance(1);
    expect(queue.depth).toBe(1);
  });

  it.each([
    ['a sooner request replaces a later one', [5000, 1000], 1000],
    ['a later request does not postpone a sooner one', [1000, 5000], 1000],
  ])('should keep the soonest delay: %s', async (_title, delays, due) => {
    const clock = new FakeClock();
    const queue = new WorkQueue(clock);
    for (const delay of delays) queue.addAfter('a', delay);
    expect(queue.dueAt('a')).toBe(clock.now() + due);
    await clock.advance(due);
    expect(queue.depth).toBe(1);
    await clock.advance(10_000);
    expect(await drain(queue)).toEqual(['a']);
  });

  it('should cancel a delayed add when the key is added now', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue(clock);
    queue.addAfter('a', 1000);
    queue.add('a');
    expect(await drain(queue)).toEqual(['a']);
    await clock.advance(2000);
    expect(queue.depth).toBe(0);
  });

  it('should resolve waiting workers with undefined and drop timers on shutdown', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue(clock);
    const waiting = queue.get();
    queue.addAfter('later', 1000);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
    queue.add('x');
    expect(await queue.get()).toBeUndefined();
  });

  it('should report how long a key waited', async () => {
    const clock = new FakeClock();
    const waits: number[] = [];
    const queue = new WorkQueue(clock, { waited: (ms) => waits.push(ms) });
    queue.add('a');
    await clock.advance(250);
    await queue.get();
    expect(waits).toEqual([250]);
  });
});

describe('KeyBackoff', () => {
  const cases = [
    { random: 0, expected: [250, 500, 1000, 2000, 4000, 5000, 5000] },
    { random: 0.999999, expected: [500, 1000, 2000, 4000, 8000, 10000, 10000] },
  ];
  it.each(cases)(
    'should grow exponentially within [d/2, d] and cap (random $random)',
    ({ random, expected }) => {
      const backoff = new KeyBackoff({ baseMs: 500, maxMs: 10_000, random: () => random });
      expect(expected.map(() => backoff.next('k'))).toEqual(expected);
    },
  );

  it('should count per key and start again after forget', () => {
    const backoff = new KeyBackoff({ baseMs: 100, maxMs: 10_000, random: () => 0.5 });
    backoff.next('a');
    backoff.next('a');
    expect(backoff.failures('a')).toBe(2);
    expect(backoff.failures('b')).toBe(0);
    backoff.forget('a');
    expect(backoff.next('a')).toBe(75);
  });

  it('should honour a longer server-requested delay (Retry-After)', () => {
    const backoff = new KeyBackoff({ baseMs: 100, maxMs: 10_000, random: () => 0.5 });
    expect(backoff.next('a', 60_000)).toBe(60_000);
  });
});
