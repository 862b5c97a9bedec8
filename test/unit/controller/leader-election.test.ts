import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { KubeApiError } from '../../../src/controller/kube-http.ts';
import {
  LeaderElector,
  microTime,
  type Lease,
  type LeaseClient,
  type LeadershipEnd,
} from '../../../src/controller/leader-election.ts';
import { silentLogger } from '../../../src/observability/logger.ts';

/** One Lease with resourceVersion semantics, shared by every candidate; failures can be injected. */
class LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  writes: string[] = [];
  /** Called after every successful write (a watch on the Lease). */
  onWrite: (lease: Lease) => void = () => undefined;

  client(name: string, faults: { down: boolean; hang: boolean } = { down: false, hang: false }): LeaseClient {
    const guard = <T>(signal: AbortSignal, run: () => T): Promise<T> => {
      if (faults.hang) {
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error);
          });
        });
      }
      if (faults.down) return Promise.reject(new Error('connection refused'));
      return Promise.resolve(run());
    };
    return {
      get: (signal) =>
        guard(signal, () => (this.lease === undefined ? undefined : structuredClone(this.lease))),
      create: (lease, signal) =>
        guard(signal, () => {
          if (this.lease !== undefined) throw new KubeApiError(409, 'AlreadyExists', 'exists');
          this.lease = { ...structuredClone(lease), metadata: { resourceVersion: String(++this.rv) } };
          this.writes.push(`${name} create`);
          return structuredClone(this.lease);
        }),
      update: (lease, signal) =>
        guard(signal, () => {
          if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
            throw new KubeApiError(409, 'Conflict', 'the object has been modified');
          }
          this.lease = { ...structuredClone(lease), metadata: { resourceVersion: String(++this.rv) } };
          this.writes.push(`${name} update ${lease.spec?.holderIdentity ?? ''}`);
          this.onWrite(structuredClone(this.lease));
          return structuredClone(this.lease);
        }),
    };
  }
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string, random = () => 0) {
  const faults = { down: false, hang: false };
  const elector = new LeaderElector(store.client(identity, faults), {
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    releaseTimeoutMs: 5_000,
    problemLogIntervalMs: 60_000,
    missingNamespaceFix: 'create the namespace',
    clock,
    logger: silentLogger(),
    random,
  });
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  let ended: LeadershipEnd | undefined;
  const result = elector.run({
    onStartedLeading: (s) => {
      signal = s;
      events.push(`started ${clock.now()}`);
    },
    onStoppedLeading: (end) => {
      ended = end;
      events.push(`${end} ${clock.now()}`);
    },
  });
  return {
    elector,
    faults,
    events,
    result,
    get signal() {
      return signal;
    },
    get ended() {
      return ended;
    },
  };
}

describe('LeaderElector', () => {
  it('should take a Lease that does not exist, with six-digit MicroTimes', async () => {
    const clock = new FakeClock(Date.parse('2026-11-22T12:00:00.123Z'));
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    expect(a.elector.isLeader).toBe(true);
    expect(store.lease?.spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-22T12:00:00.123000Z',
      renewTime: '2026-11-22T12:00:00.123000Z',
      leaseTransitions: 0,
    });
    expect(microTime(0)).toBe('1970-01-01T00:00:00.000000Z');
    await a.elector.stop();
  });

  it('should renew every retry period by writing over its own Lease, without reading it first', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(10_000);
    expect(store.writes).toEqual([
      'a create',
      'a update a',
      'a update a',
      'a update a',
      'a update a',
      'a update a',
    ]);
    await a.elector.stop();
  });

  it('should leave a Lease renewed by a live leader alone and take it once it went unrenewed for its duration', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    const b = candidate(store, clock, 'b');
    await clock.advance(60_000);
    expect(b.elector.isLeader).toBe(false);
    expect(b.elector.leader).toBe('a');
    // a dies without releasing: its last renewal was at 60 s.
    a.faults.down = true;
    const diedAt = clock.now();
    let takenAt: number | undefined;
    for (let t = 0; t < 30_000 && takenAt === undefined; t += 100) {
      await clock.advance(100);
      if (b.elector.isLeader) takenAt = clock.now();
    }
    expect(takenAt).toBeDefined();
    // b saw a's last renewal within one retry period; it waits one lease duration from then.
    expect((takenAt ?? 0) - diedAt).toBeGreaterThanOrEqual(15_000 - 2_000);
    expect((takenAt ?? 0) - diedAt).toBeLessThanOrEqual(15_000 + 2 * 2_000);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('should take over exactly one lease duration after the last renewal it watched, not at its next poll', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    const b = candidate(store, clock, 'b', () => 0.99);
    store.onWrite = (lease) => {
      b.elector.observe(lease);
    };
    await clock.advance(20_900);
    const lastRenewal = clock.now() - 900; // a renews every 2 s: the last one at 20 s
    a.faults.down = true;
    await clock.advance(15_000 - 900 - 1);
    expect(b.elector.isLeader).toBe(false);
    await clock.advance(1);
    expect(b.elector.isLeader).toBe(true);
    expect(clock.now() - lastRenewal).toBe(15_000);
    await b.elector.stop();
  });

  it('should try at once when it watches the Lease being released', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    const b = candidate(store, clock, 'b');
    store.onWrite = (lease) => {
      b.elector.observe(lease);
    };
    await clock.advance(700);
    await a.elector.stop();
    await clock.advance(0);
    expect(b.elector.isLeader).toBe(true);
    await b.elector.stop();
  });

  it('should stop leading exactly at the renew deadline when renewals fail, and not campaign again', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(4_000); // renewed at 2 s and 4 s
    a.faults.down = true;
    await clock.advance(9_999);
    expect(a.elector.isLeader).toBe(true);
    expect(a.signal?.aborted).toBe(false);
    await clock.advance(1);
    expect(a.elector.isLeader).toBe(false);
    expect(a.signal?.aborted).toBe(true);
    expect(a.events).toEqual([`started ${clock.now() - 14_000}`, `lost ${clock.now()}`]);
    expect(await a.result).toBe('lost');
    a.faults.down = false;
    const writes = store.writes.length;
    await clock.advance(60_000);
    expect(store.writes.length).toBe(writes);
  });

  it('should stop leading at the renew deadline even while a renewal request hangs', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(2_000);
    a.faults.hang = true;
    await clock.advance(10_000);
    expect(a.ended).toBe('lost');
    expect(a.signal?.aborted).toBe(true);
    expect(await a.result).toBe('lost');
  });

  it('should stop leading when it finds another holder (partitioned past the lease duration)', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    // Someone else wrote the Lease behind a's back.
    store.lease = {
      ...store.lease,
      spec: { ...store.lease?.spec, holderIdentity: 'z' },
      metadata: { resourceVersion: String(++store.rv) },
    };
    await clock.advance(2_000);
    expect(a.ended).toBe('lost');
  });

  it('should release the Lease on stop so that a standby takes it at its next attempt, or at once when woken', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    const b = candidate(store, clock, 'b');
    await clock.advance(500);
    await a.elector.stop();
    expect(a.ended).toBe('released');
    expect(store.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(await a.result).toBe('released');
    b.elector.wake();
    await clock.advance(0);
    expect(b.elector.isLeader).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.elector.stop();
  });

  it('should hand a Lease won just as it was stopped straight back, without leading', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    const stopped = a.elector.stop();
    await clock.advance(0);
    await stopped;
    expect(await a.result).toBe('stopped');
    expect(a.events).toEqual([]);
    expect(store.lease?.spec?.holderIdentity).toBe('');
  });

  it('should lose a race to write the Lease without believing it leads (409 Conflict)', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    await clock.advance(0);
    expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
    expect(store.writes).toEqual(['a create']);
    await a.elector.stop();
    await b.elector.stop();
  });

  it.each([1, 2, 3, 4, 5])(
    'should never let two candidates lead at once, whatever fails when (random schedule %i)',
    async (seed) => {
      let state = seed;
      const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
      const clock = new FakeClock();
      const store = new LeaseStore();
      const candidates = ['a', 'b', 'c'].map((id) => candidate(store, clock, id, random));
      for (let t = 0; t < 600; t++) {
        for (const c of candidates) {
          if (random() < 0.02) c.faults.down = !c.faults.down;
          if (random() < 0.005) c.faults.hang = !c.faults.hang;
        }
        await clock.advance(250);
        // A leader (still acting) is one whose signal has not aborted.
        const acting = candidates.filter((c) => c.signal !== undefined && !c.signal.aborted);
        expect(acting.length).toBeLessThanOrEqual(1);
      }
      // The schedule did make leadership change hands.
      const started = candidates.flatMap((c) => c.events.filter((e) => e.startsWith('started')));
      expect(started.length).toBeGreaterThanOrEqual(2);
      for (const c of candidates) {
        c.faults.down = false;
        c.faults.hang = false;
      }
      await Promise.all(candidates.map((c) => c.elector.stop()));
    },
  );
});
