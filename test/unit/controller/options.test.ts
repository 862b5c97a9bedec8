import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { changedBeyondStatus } from '../../../src/controller/controller.ts';
import {
  resolveControllerOptions,
  resolveInformerOptions,
  resolveManagerOptions,
  type ManagerInput,
} from '../../../src/controller/options.ts';
import { defaults } from '../../../src/defaults.ts';
import { compact } from '../../../src/controller/transforms.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { FakeApiServer } from './support/fake-api-server.ts';

const election = { namespace: 'coffre-system', leaseName: 'coffre' };

describe('resolveManagerOptions', () => {
  it('should fill every default from src/defaults.ts, with the system clock', () => {
    const resolved = resolveManagerOptions({ leaderElection: election });
    expect(resolved.clock).toBe(systemClock);
    expect(resolved.shutdownGraceMs).toBe(defaults.shutdownGraceMs);
    expect(resolved.stuckWorkerMs).toBe(defaults.stuckWorkerMs);
    expect(resolved.leaderElection).toMatchObject({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      watchLease: true,
    });
    expect(resolved.leaderElection?.identity).toMatch(/^.+_[0-9a-f]{8}$/);
  });

  it('should hand the one injected clock to leader election', () => {
    const clock = new FakeClock();
    expect(resolveManagerOptions({ clock, leaderElection: election }).leaderElection?.clock).toBe(clock);
  });

  it('should turn leader election off when absent or false', () => {
    expect(resolveManagerOptions({}).leaderElection).toBeUndefined();
    expect(resolveManagerOptions({ leaderElection: false }).leaderElection).toBeUndefined();
  });

  it.each<[string, ManagerInput, RegExp]>([
    [
      'a lease shorter than the renew deadline',
      { leaderElection: { ...election, leaseDurationMs: 5_000 } },
      /leaseDurationMs/,
    ],
    [
      'a renew deadline within 1.2 retry periods',
      { leaderElection: { ...election, retryPeriodMs: 9_000 } },
      /renewDeadlineMs/,
    ],
    ['a negative grace period', { shutdownGraceMs: -1 }, /shutdownGraceMs/],
    ['no lease name', { leaderElection: { ...election, leaseName: '' } }, /lease name/],
  ])('should refuse %s', (_title, input, message) => {
    expect(() => resolveManagerOptions(input)).toThrow(message);
  });
});

describe('resolveInformerOptions and resolveControllerOptions', () => {
  const context = { clock: new FakeClock(), logger: silentLogger(), random: () => 0 };

  it('should default an informer to all namespaces, full objects without managedFields', () => {
    const options = resolveInformerOptions(
      { name: 'x', resource: { group: '', version: 'v1', plural: 'secrets' } },
      { ...context, http: new FakeApiServer().http },
    );
    expect(options).toMatchObject({
      namespaces: [],
      metadataOnly: false,
      pageSize: 500,
      watchTimeoutSeconds: 300,
    });
    expect(options.transform).toBe(compact);
  });

  it('should default a controller and merge a partial backoff', () => {
    const options = resolveControllerOptions(
      {
        name: 'x',
        informer: { name: 'i', addHandlers: () => undefined, store: {} as never },
        reconciler: { reconcile: () => Promise.resolve(undefined) },
        backoff: { maxMs: 60_000 },
      },
      context,
    );
    expect(options.workers).toBe(8);
    expect(options.backoff).toEqual({
      baseMs: 500,
      maxMs: 60_000,
      jitter: 'equal',
      maxRetryAfterMs: 3_600_000,
    });
    expect(options.shouldReconcileUpdate).toBe(changedBeyondStatus);
  });

  it.each([0, 1.5, -2])('should refuse %d workers', (workers) => {
    expect(() =>
      resolveControllerOptions(
        {
          name: 'x',
          informer: { name: 'i', addHandlers: () => undefined, store: {} as never },
          reconciler: { reconcile: () => Promise.resolve(undefined) },
          workers,
        },
        context,
      ),
    ).toThrow(/workers/);
  });
});
