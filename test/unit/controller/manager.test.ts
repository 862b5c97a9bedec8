import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { LeaderElector, type Lease, type LeaseClient } from '../../../src/controller/leader-election.ts';
import { installSignalHandlers, Manager } from '../../../src/controller/manager.ts';
import type { ReconcileContext } from '../../../src/controller/types.ts';
import { Writable } from 'node:stream';
import { createLogger, silentLogger, type Logger } from '../../../src/observability/logger.ts';
import { FakeApiServer } from './support/fake-api-server.ts';
import { KubeApiError } from '../../../src/controller/kube-http.ts';

/** An in-memory Lease; `down` makes every call fail. */
function leaseBackend() {
  const state: {
    lease: Lease | undefined;
    rv: number;
    down: boolean;
    /** The Lease's namespace does not exist: a create answers 404 about the namespace. */
    namespaceMissing: boolean;
    log: string[];
  } = {
    lease: undefined,
    rv: 0,
    down: false,
    namespaceMissing: false,
    log: [],
  };
  const client: LeaseClient = {
    get: () =>
      state.down ? Promise.reject(new Error('down')) : Promise.resolve(structuredClone(state.lease)),
    create: (lease) => {
      if (state.down) return Promise.reject(new Error('down'));
      if (state.namespaceMissing) {
        return Promise.reject(
          new KubeApiError(404, 'NotFound', 'namespaces "coffre-system" not found', undefined, {
            kind: 'namespaces',
            name: 'coffre-system',
          }),
        );
      }
      if (state.lease !== undefined) return Promise.reject(new KubeApiError(409, 'AlreadyExists', ''));
      state.lease = { ...lease, metadata: { resourceVersion: String(++state.rv) } };
      return Promise.resolve(structuredClone(state.lease));
    },
    update: (lease) => {
      if (state.down) return Promise.reject(new Error('down'));
      if (lease.metadata?.resourceVersion !== state.lease?.metadata?.resourceVersion) {
        return Promise.reject(new KubeApiError(409, 'Conflict', ''));
      }
      state.lease = { ...lease, metadata: { resourceVersion: String(++state.rv) } };
      state.log.push(`lease holder=${lease.spec?.holderIdentity ?? ''}`);
      return Promise.resolve(structuredClone(state.lease));
    },
  };
  return { state, client };
}

type Behaviour = (context: ReconcileContext, name: string) => Promise<undefined>;

function setup(
  options: {
    behaviour?: Behaviour;
    election?: boolean;
    identity?: string;
    clock?: FakeClock;
    logger?: Logger;
  } = {},
) {
  const clock = options.clock ?? new FakeClock();
  const server = new FakeApiServer();
  const lease = leaseBackend();
  const log: string[] = [];
  let lostCalls = 0;
  const manager = new Manager(server.http, {
    clock,
    logger: options.logger ?? silentLogger(),
    random: () => 0.5,
    shutdownGraceMs: 5_000,
    stuckWorkerMs: 60_000,
    onLeadershipLost: () => lostCalls++,
    ...(options.election === true
      ? {
          leaderElection: {
            namespace: 'coffre-system',
            leaseName: 'coffre',
            identity: options.identity ?? 'me',
            client: lease.client,
            watchLease: false,
            missingNamespaceFix: 'kubectl create namespace coffre-system',
          },
        }
      : {}),
  });
  const configmaps = manager.informer({
    name: 'configmaps',
    resource: { group: '', version: 'v1', plural: 'configmaps' },
  });
  manager.controller({
    name: 'test',
    informer: configmaps,
    reconcileTimeoutMs: 0,
    reconciler: {
      reconcile: async ({ name }, context) => {
        log.push(`reconcile ${name}`);
        await (options.behaviour ?? (() => Promise.resolve(undefined)))(context, name);
        log.push(`done ${name}`);
      },
    },
  });
  return {
    clock,
    server,
    lease,
    log,
    manager,
    get lostCalls() {
      return lostCalls;
    },
  };
}

describe('Manager', () => {
  it('should start controllers only once the caches are synced, and report readiness then', async () => {
    const { clock, server, log, manager } = setup();
    server.create('ns', 'a');
    server.failNext = 2;
    const started = manager.start();
    await clock.advance(0);
    expect(manager.readyz()).toEqual({ ok: false, reasons: ['cache configmaps not synced'] });
    expect(log).toEqual([]);
    await clock.advance(5_000);
    await started;
    await clock.advance(0);
    expect(manager.readyz().ok).toBe(true);
    expect(log).toEqual(['reconcile a', 'done a']);
    await manager.stop();
  });

  it('should fail liveness when one reconcile runs longer than the stuck-worker threshold', async () => {
    const { clock, server, manager } = setup({ behaviour: () => new Promise(() => undefined) });
    server.create('ns', 'a');
    await manager.start();
    await clock.advance(60_000);
    expect(manager.healthz().ok).toBe(true);
    await clock.advance(1);
    expect(manager.healthz()).toEqual({
      ok: false,
      reasons: ['controller test: a reconcile has run for 60 s'],
    });
  });

  it('should keep a standby warm but idle, and start work when it wins the Lease', async () => {
    const { clock, server, lease, log, manager } = setup({ election: true, identity: 'standby' });
    const other = new LeaderElector(lease.client, {
      identity: 'other',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseTimeoutMs: 1_000,
      problemLogIntervalMs: 60_000,
      missingNamespaceFix: 'create the namespace',
      clock,
      logger: silentLogger(),
      random: () => 0,
    });
    void other.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    await clock.advance(0);
    server.create('ns', 'a');
    await manager.start();
    await clock.advance(10_000);
    expect(manager.readyz().ok).toBe(true);
    expect(manager.isLeader).toBe(false);
    expect(log).toEqual([]);
    await other.stop();
    await clock.advance(2_000);
    expect(manager.isLeader).toBe(true);
    expect(log).toEqual(['reconcile a', 'done a']);
    await manager.stop();
  });

  it('should say once a minute, with the fix, that the Lease namespace is missing; be unready, stay live, and lead once it exists', async () => {
    const lines: { level: string; msg: string }[] = [];
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(JSON.parse(chunk.toString()) as { level: string; msg: string });
          callback();
        },
      }),
    });
    const { clock, server, lease, log, manager } = setup({ election: true, logger });
    lease.state.namespaceMissing = true;
    server.create('ns', 'a');
    await manager.start();
    await clock.advance(30_000);
    const errors = () => lines.filter((line) => line.level === 'error').map((line) => line.msg);
    expect(errors()).toEqual([
      'leader election: namespace "coffre-system" does not exist, so this replica cannot lead and reconciles nothing; to fix: kubectl create namespace coffre-system',
    ]);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(manager.readyz()).toEqual({
      ok: false,
      reasons: ['leader election: namespace "coffre-system" of the leader-election Lease does not exist'],
    });
    expect(manager.healthz().ok).toBe(true);
    expect(manager.isLeader).toBe(false);
    // Retries every 2.2 s (random 0.5): the next line comes with the first retry a minute later.
    await clock.advance(29_000);
    expect(errors()).toHaveLength(1);
    await clock.advance(3_000);
    expect(errors()).toHaveLength(2);

    lease.state.namespaceMissing = false;
    await clock.advance(3_000);
    expect(manager.isLeader).toBe(true);
    expect(manager.readyz().ok).toBe(true);
    expect(log).toEqual(['reconcile a', 'done a']);
    expect(lines.map((line) => line.msg)).toContain('leader election: the Lease namespace exists now');
    await manager.stop();
  });

  it('should stop work at once when leadership is lost, and end so the process can restart clean', async () => {
    const aborted: string[] = [];
    const harness = setup({
      election: true,
      behaviour: ({ signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.push((signal.reason as Error).message);
            reject(signal.reason as Error);
          });
        }),
    });
    const { clock, server, lease, manager } = harness;
    server.create('ns', 'a');
    await manager.start();
    await clock.advance(0);
    expect(manager.isLeader).toBe(true);
    lease.state.down = true;
    await clock.advance(10_000);
    expect(aborted).toHaveLength(1);
    expect(harness.lostCalls).toBe(1);
    expect(await manager.done).toBe('leadership-lost');
    expect(manager.healthz().reasons).toContain('leadership lost');
  });

  it('should drain in-flight reconciles before releasing the Lease on stop, then end', async () => {
    const clock = new FakeClock();
    const harness = setup({
      clock,
      election: true,
      behaviour: async () => {
        await clock.sleep(3_000);
        harness.lease.state.log.push('reconcile finished');
        return undefined;
      },
    });
    const { server, lease, manager } = harness;
    server.create('ns', 'a');
    await manager.start();
    await clock.advance(1_000);
    const stopped = manager.stop();
    await clock.advance(3_000);
    const report = await stopped;
    expect(report.controllers.test).toEqual({ drained: true, abandoned: [] });
    expect(lease.state.log.slice(-2)).toEqual(['reconcile finished', 'lease holder=']);
    expect(await manager.done).toBe('stopped');
    expect(manager.readyz().reasons).toContain('stopping');
  });
});

describe('Manager start-up', () => {
  it('should resolve start() without starting work when stopped before the caches synced', async () => {
    const { clock, server, log, manager } = setup();
    server.failNext = 1_000;
    const started = manager.start();
    await clock.advance(1_000);
    await manager.stop();
    await expect(started).resolves.toBeUndefined();
    expect(log).toEqual([]);
    expect(await manager.done).toBe('stopped');
  });
});

describe('Manager composition', () => {
  it('should refuse informers and controllers added after start', async () => {
    const { manager } = setup();
    void manager.start();
    expect(() =>
      manager.informer({ name: 'late', resource: { group: '', version: 'v1', plural: 'secrets' } }),
    ).toThrow(/after the manager started/);
    // Stopped while the first list is in flight: the watch that follows must not outlive the stop.
    await manager.stop();
  });
});

describe('installSignalHandlers', () => {
  it('should stop gracefully and exit 0 on the first signal, and exit 1 at once on a second', async () => {
    const exits: number[] = [];
    let release: () => void = () => undefined;
    let stops = 0;
    const uninstall = installSignalHandlers(
      {
        stop: () => {
          stops++;
          return new Promise((resolve) => {
            release = () => {
              resolve({ controllers: {} });
            };
          });
        },
      },
      { logger: silentLogger(), exit: (code) => exits.push(code), signals: ['SIGUSR2'] },
    );
    try {
      process.emit('SIGUSR2');
      expect(stops).toBe(1);
      expect(exits).toEqual([]);
      process.emit('SIGUSR2');
      expect(exits).toEqual([1]);
      release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(exits).toEqual([1, 0]);
    } finally {
      uninstall();
    }
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
