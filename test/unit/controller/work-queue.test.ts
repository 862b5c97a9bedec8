import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { KeyedBackoff } from '../../../src/controller/rate-limiter.ts';
import { WorkQueue, type WorkQueueObserver } from '../../../src/controller/work-queue.ts';

function setup(observer: WorkQueueObserver = {}) {
  const clock = new FakeClock();
  const backoff = new KeyedBackoff(
    { baseMs: 1000, maxMs: 8000, jitter: 'none', maxRetryAfterMs: 60_000 },
    () => 0,
  );
  const queue = new WorkQueue({ clock, backoff, observer });
  /** Takes every ready key (marking each done), in order. */
  const takeAll = async (): Promise<string[]> => {
    const keys: string[] = [];
    while (queue.depth > 0) {
      const key = await queue.get();
      if (key === undefined) break;
      keys.push(key);
      queue.done(key);
    }
    return keys;
  };
  return { clock, queue, takeAll };
}

describe('WorkQueue', () => {
  it('should hand out a key added many times once, in first-added order', async () => {
    const { queue, takeAll } = setup();
    for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) queue.add(key);
    expect(queue.depth).toBe(3);
    expect(await takeAll()).toEqual(['a', 'b', 'c']);
  });

  it('should never hand one key to two workers: added while processing, it is dirty and re-run after done', async () => {
    const { queue } = setup();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    const second = queue.get();
    let handed: string | undefined = 'nothing yet';
    void second.then((key) => (handed = key));
    await Promise.resolve();
    expect(handed).toBe('nothing yet');
    expect(queue.depth).toBe(0);
    queue.done(first ?? '');
    expect(await second).toBe('a');
    queue.done('a');
    expect(queue.depth).toBe(0);
  });

  it('should coalesce adds made in one synchronous run even when a worker is already waiting', async () => {
    const { queue } = setup();
    const worker = queue.get();
    queue.add('a');
    queue.add('a');
    expect(await worker).toBe('a');
    queue.done('a');
    expect(queue.depth).toBe(0);
  });

  it('should serve N waiting workers with N different keys at once', async () => {
    const { queue } = setup();
    const workers = [queue.get(), queue.get(), queue.get()];
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    expect(await Promise.all(workers)).toEqual(['a', 'b', 'c']);
    expect(queue.processingCount).toBe(3);
    expect(queue.depth).toBe(1);
  });

  it.each([
    ['a sooner request replaces a later one', [5000, 1000], 1000],
    ['a later request does not postpone a sooner one', [1000, 5000], 1000],
    ['equal requests keep one timer', [2000, 2000], 2000],
  ])('should keep the soonest addAfter: %s', async (_title, delays, dueAfter) => {
    const { clock, queue, takeAll } = setup();
    const start = clock.now();
    for (const ms of delays) queue.addAfter('a', ms);
    expect(queue.delayedCount).toBe(1);
    expect(queue.dueAt('a')).toBe(start + dueAfter);
    await clock.advance(dueAfter - 1);
    expect(queue.depth).toBe(0);
    await clock.advance(1);
    expect(await takeAll()).toEqual(['a']);
    await clock.advance(10_000);
    expect(queue.depth).toBe(0);
  });

  it('should hand out urgent keys first, moving a waiting key to the front once', async () => {
    const { queue, takeAll } = setup();
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    queue.addUrgent('c');
    queue.addUrgent('e');
    queue.addUrgent('c');
    expect(queue.depth).toBe(5);
    expect(await takeAll()).toEqual(['c', 'e', 'a', 'b', 'd']);
    expect(queue.depth).toBe(0);
  });

  it('should re-run a key added urgently while processing ahead of the others after done', async () => {
    const { queue, takeAll } = setup();
    queue.add('a');
    const first = await queue.get();
    queue.add('b');
    queue.addUrgent('a');
    queue.done(first ?? '');
    expect(await takeAll()).toEqual(['a', 'b']);
  });

  it('should let addUrgent cancel a pending delayed add', async () => {
    const { clock, queue, takeAll } = setup();
    queue.addAfter('a', 5000);
    queue.addUrgent('a');
    expect(await takeAll()).toEqual(['a']);
    await clock.advance(6000);
    expect(queue.depth).toBe(0);
  });

  it('should let add() (now) cancel a pending delayed add', async () => {
    const { clock, queue, takeAll } = setup();
    queue.addAfter('a', 5000);
    queue.add('a');
    expect(await takeAll()).toEqual(['a']);
    await clock.advance(5000);
    expect(queue.depth).toBe(0);
  });

  it('should ignore addAfter for a key that is already ready or will re-run', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.addAfter('a', 1000);
    expect(queue.delayedCount).toBe(0);
    const key = await queue.get();
    queue.add('a'); // dirty
    queue.addAfter('a', 1000);
    expect(queue.delayedCount).toBe(0);
    queue.done(key ?? '');
    expect(queue.depth).toBe(1);
  });

  it('should grow the delay of addRateLimited per key, and start over after forget', async () => {
    const { clock, queue } = setup();
    expect([queue.addRateLimited('a'), queue.addRateLimited('a'), queue.addRateLimited('a')]).toEqual([
      1000, 2000, 4000,
    ]);
    expect(queue.numRequeues('a')).toBe(3);
    expect(queue.addRateLimited('b')).toBe(1000);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    expect(queue.addRateLimited('a')).toBe(1000);
    expect(queue.addRateLimited('a', 30_000)).toBe(30_000);
    await clock.advance(1000);
    expect(queue.depth).toBe(2);
  });

  it('should stop handing out keys on shutdown and release waiting workers', async () => {
    const { clock, queue } = setup();
    const waiting = queue.get();
    queue.addAfter('later', 1000);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    expect(await queue.get()).toBeUndefined();
    await clock.advance(1000);
    expect(queue.depth).toBe(0);
  });

  it('should drain: resolve true once in-flight keys are done, false at the deadline', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    queue.add('b');
    const a = await queue.get();
    const b = await queue.get();
    queue.shutDown();
    const drained = queue.drain(5000);
    queue.done(a ?? '');
    await clock.advance(1000);
    queue.done(b ?? '');
    expect(await drained).toBe(true);

    const stuck = setup();
    stuck.queue.add('c');
    await stuck.queue.get();
    const late = stuck.queue.drain(5000);
    await stuck.clock.advance(5000);
    expect(await late).toBe(false);
    expect(stuck.queue.processingKeys()).toEqual(['c']);
  });

  it('should report depth, wait, work duration and retries to the observer', async () => {
    const events: string[] = [];
    const { clock, queue } = setup({
      depth: (n) => events.push(`depth ${n}`),
      waited: (ms) => events.push(`waited ${ms}`),
      worked: (ms) => events.push(`worked ${ms}`),
      retried: (key, ms) => events.push(`retried ${key} ${ms}`),
    });
    queue.add('a');
    await clock.advance(300);
    const key = await queue.get();
    await clock.advance(700);
    queue.done(key ?? '');
    queue.addRateLimited('a');
    expect(events).toEqual(['depth 1', 'depth 0', 'waited 300', 'worked 700', 'retried a 1000']);
  });

  it('should report the oldest in-flight key for liveness', async () => {
    const { clock, queue } = setup();
    expect(queue.oldestProcessingSince()).toBeUndefined();
    queue.add('a');
    const start = clock.now();
    await queue.get();
    await clock.advance(1000);
    queue.add('b');
    await queue.get();
    expect(queue.oldestProcessingSince()).toBe(start);
  });

  it('should hold every key exactly once however adds, delays and completions interleave (random)', async () => {
    // Model: a key is in at most one of {ready, processing}; every add eventually yields a run.
    const { clock, queue } = setup();
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const processing = new Set<string>();
    for (let step = 0; step < 2000; step++) {
      const key = `k${Math.floor(random() * 5)}`;
      const roll = random();
      if (roll < 0.3) queue.add(key);
      else if (roll < 0.4) queue.addUrgent(key);
      else if (roll < 0.55) queue.addAfter(key, Math.floor(random() * 3000));
      else if (roll < 0.75 && queue.depth > 0) {
        const taken = await queue.get();
        expect(taken).toBeDefined();
        expect(processing.has(taken ?? '')).toBe(false);
        processing.add(taken ?? '');
      } else if (roll < 0.9 && processing.size > 0) {
        const done = [...processing][Math.floor(random() * processing.size)] ?? '';
        processing.delete(done);
        queue.done(done);
      } else await clock.advance(Math.floor(random() * 1000));
      expect(queue.processingCount).toBe(processing.size);
    }
  });
});
