// The operator-wide queue of workload restarts: slots spaced apart, due ones taken, a newer plan
// replacing an older one. Time is a number (a fake clock's), so every row is exact.
import { describe, expect, it } from 'vitest';
import { RestartQueue } from '../../../src/reconcilers/vault-connection/restart-queue.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const api = { kind: 'Deployment', name: 'api' } as const;
const worker = { kind: 'Deployment', name: 'worker' } as const;
const cron = { kind: 'StatefulSet', name: 'cron' } as const;

describe('RestartQueue', () => {
  it('should make the first restart at once and space the others, within and across connections', async () => {
    const clock = new FakeClock();
    const queue = new RestartQueue(2_000);
    queue.plan('ns/a', [api, worker], 'r1', clock.now());
    queue.plan('ns/b', [cron], 'r2', clock.now());
    expect(queue.take('ns/a', clock.now())).toMatchObject({ due: [{ workload: api }], nextInMs: 2_000 });
    expect(queue.take('ns/b', clock.now())).toMatchObject({ due: [], nextInMs: 4_000 });
    await clock.advance(2_000);
    expect(queue.take('ns/a', clock.now())).toMatchObject({
      due: [{ workload: worker, restartedFor: 'r1' }],
      nextInMs: undefined,
    });
    await clock.advance(2_000);
    expect(queue.take('ns/b', clock.now())).toMatchObject({ due: [{ workload: cron }], nextInMs: undefined });
    expect(queue.size).toBe(0);
  });

  it('should start at once again after a quiet spell', async () => {
    const clock = new FakeClock();
    const queue = new RestartQueue(2_000);
    queue.plan('ns/a', [api], 'r1', clock.now());
    queue.take('ns/a', clock.now());
    await clock.advance(60_000);
    queue.plan('ns/a', [api], 'r2', clock.now());
    expect(queue.take('ns/a', clock.now())).toMatchObject({ due: [{ restartedFor: 'r2' }] });
  });

  it('should replace a pending plan by a newer one (restart for the newest data, once)', async () => {
    const clock = new FakeClock();
    const queue = new RestartQueue(2_000);
    queue.plan('ns/x', [cron], 'r0', clock.now());
    queue.plan('ns/a', [api], 'r1', clock.now());
    queue.plan('ns/a', [api], 'r2', clock.now());
    await clock.advance(10_000);
    expect(queue.take('ns/a', clock.now()).due.map((p) => p.restartedFor)).toEqual(['r2']);
  });

  it('should keep a waiting workload in its slot when the data changes again (no starvation)', async () => {
    const clock = new FakeClock();
    const queue = new RestartQueue(2_000);
    queue.plan('ns/x', [cron], 'r0', clock.now());
    queue.plan('ns/a', [api], 'r1', clock.now());
    for (let i = 0; i < 5; i++) {
      await clock.advance(500);
      queue.plan('ns/a', [api], `r${i + 2}`, clock.now());
    }
    // Due 2 s after the first plan, with the newest value.
    expect(queue.take('ns/a', clock.now())).toMatchObject({ due: [{ restartedFor: 'r6' }] });
  });

  it('should forget the restarts of a deleted connection', () => {
    const queue = new RestartQueue(2_000);
    queue.plan('ns/a', [api, worker], 'r1', 0);
    queue.forget('ns/a');
    expect(queue.take('ns/a', 10_000).due).toEqual([]);
  });
});
