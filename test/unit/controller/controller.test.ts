import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.ts';
import { Controller, changedBeyondStatus, type EventSource } from '../../../src/controller/controller.ts';
import type { InformerHandlers } from '../../../src/controller/informer.ts';
import {
  TerminalError,
  type KubeObject,
  type ObjectKey,
  type Reconciler,
} from '../../../src/controller/types.ts';
import { CoffreError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/observability/logger.ts';

class FakeSource implements EventSource<KubeObject> {
  handlers: InformerHandlers<KubeObject>[] = [];
  store = { keys: () => [] as string[] };
  addHandlers(handlers: InformerHandlers<KubeObject>): void {
    this.handlers.push(handlers);
  }
  add(name: string, generation = 1): void {
    for (const h of this.handlers) h.onAdd?.({ metadata: { namespace: 'ns', name, generation } });
  }
}

type Behaviour = (key: ObjectKey, attempt: number) => Promise<{ requeueAfterMs?: number } | undefined>;

function setup(behaviour: Behaviour, workers = 2) {
  const clock = new FakeClock();
  const source = new FakeSource();
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  const reconciler: Reconciler = {
    async reconcile(key) {
      const attempt = (attempts.get(key.name) ?? 0) + 1;
      attempts.set(key.name, attempt);
      calls.push(key.name);
      return behaviour(key, attempt);
    },
  };
  const outcomes: string[] = [];
  const controller = new Controller({
    name: 'test',
    informer: source,
    reconciler,
    workers,
    backoffBaseMs: 1000,
    backoffMaxMs: 60_000,
    random: () => 0,
    clock,
    logger: silentLogger(),
    observer: { reconciled: (_c, key, outcome) => outcomes.push(`${key}:${outcome}`) },
  });
  controller.start();
  return { clock, source, calls, outcomes, controller };
}

describe('Controller', () => {
  it('should reconcile an added object and schedule the requested requeue', async () => {
    const { clock, source, calls } = setup(() => Promise.resolve({ requeueAfterMs: 5000 }));
    source.add('a');
    await clock.advance(0);
    expect(calls).toEqual(['a']);
    await clock.advance(4999);
    expect(calls).toEqual(['a']);
    await clock.advance(1);
    expect(calls).toEqual(['a', 'a']);
  });

  it('should retry a retryable error with growing backoff', async () => {
    const { clock, source, calls } = setup(() => Promise.reject(new Error('boom')));
    source.add('a');
    await clock.advance(0);
    await clock.advance(500); // first retry after 1000 * (0.5 + 0.5 * 0) = 500 ms
    expect(calls).toHaveLength(2);
    await clock.advance(999);
    expect(calls).toHaveLength(2);
    await clock.advance(1);
    expect(calls).toHaveLength(3);
  });

  it('should honour a retryAfter longer than the backoff', async () => {
    const { clock, source, calls } = setup(() =>
      Promise.reject(new CoffreError('rate_limited', 'slow down', { retryable: true, retryAfterMs: 30_000 })),
    );
    source.add('a');
    await clock.advance(29_999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
  });

  it('should not retry a terminal error until the object changes', async () => {
    const { clock, source, calls, outcomes } = setup(() =>
      Promise.reject(new TerminalError('invalid', 'fix me')),
    );
    source.add('a');
    await clock.advance(600_000);
    expect(calls).toEqual(['a']);
    expect(outcomes).toEqual(['ns/a:terminal']);
    source.add('a', 2);
    await clock.advance(0);
    expect(calls).toEqual(['a', 'a']);
  });

  it('should not let an object that keeps failing delay the others', async () => {
    const { clock, source, calls } = setup((key) =>
      key.name === 'bad' ? Promise.reject(new Error('always')) : Promise.resolve(undefined),
    );
    source.add('bad');
    for (let i = 0; i < 20; i++) source.add(`good-${i}`);
    await clock.advance(0);
    expect(calls.filter((c) => c.startsWith('good-'))).toHaveLength(20);
  });

  it('should never run one key on two workers at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const clock = new FakeClock();
    const { source, calls } = setup(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await clock.sleep(100);
      running--;
      return undefined;
    }, 4);
    source.add('a');
    await Promise.resolve();
    source.add('a');
    source.add('a');
    for (let i = 0; i < 10; i++) await clock.advance(100);
    expect(maxRunning).toBe(1);
    expect(calls).toEqual(['a', 'a']);
  });

  it('should let in-flight reconciles finish on stop, then take no more work', async () => {
    const clock = new FakeClock();
    let finished = false;
    const { source, controller, calls } = setup(async (_key, _attempt) => {
      await clock.sleep(1000);
      finished = true;
      return undefined;
    });
    source.add('a');
    await Promise.resolve();
    const stopped = controller.stop(5000);
    source.add('b');
    await clock.advance(1000);
    await stopped;
    expect(finished).toBe(true);
    expect(calls).toEqual(['a']);
  });
});

describe('changedBeyondStatus', () => {
  const base: KubeObject = { metadata: { generation: 1, resourceVersion: '1', annotations: { a: '1' } } };
  it.each([
    ['a status-only update', { metadata: { ...base.metadata, resourceVersion: '2' } }, false],
    ['a spec change (generation)', { metadata: { ...base.metadata, generation: 2 } }, true],
    [
      'an annotation change (force refresh)',
      { metadata: { ...base.metadata, annotations: { a: '2' } } },
      true,
    ],
    ['a deletion', { metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, true],
  ])('should reconcile on %s: %s', (_title, updated, expected) => {
    expect(changedBeyondStatus(base, updated)).toBe(expected);
  });
});
