import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import {
  changedBeyondStatus,
  Controller,
  ownersOf,
  type EventSource,
  type ReconcileOutcome,
} from '../../../src/controller/controller.ts';
import type { InformerHandlers } from '../../../src/controller/informer.ts';
import { resolveControllerOptions, type ControllerSpec } from '../../../src/controller/options.ts';
import { Store } from '../../../src/controller/store.ts';
import {
  TerminalError,
  type KubeObject,
  type ObjectKey,
  type ReconcileContext,
  type ReconcileResult,
} from '../../../src/controller/types.ts';
import { CoffreError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/observability/logger.ts';

/** An event source driven by the test, with a real store behind it. */
class FakeSource<T extends KubeObject = KubeObject> implements EventSource<T> {
  readonly name: string;
  readonly store = new Store<T>();
  readonly #handlers: InformerHandlers<T>[] = [];

  constructor(name = 'fake') {
    this.name = name;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  add(object: T): void {
    this.store.upsert(object);
    for (const h of this.#handlers) h.onAdd?.(object);
  }

  update(object: T): void {
    const old = this.store.upsert(object);
    for (const h of this.#handlers) {
      if (old === undefined) h.onAdd?.(object);
      else h.onUpdate?.(old, object);
    }
  }

  delete(object: T): void {
    this.store.remove(`${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`);
    for (const h of this.#handlers) h.onDelete?.(object);
  }
}

function primary(name: string, generation = 1, resourceVersion = String(generation)): KubeObject {
  return { metadata: { namespace: 'ns', name, uid: `uid-${name}`, generation, resourceVersion } };
}

type Behaviour = (
  key: ObjectKey,
  attempt: number,
  context: ReconcileContext,
) => Promise<ReconcileResult | undefined>;

function setup(
  behaviour: Behaviour,
  spec: Partial<ControllerSpec<KubeObject>> = {},
  clock = new FakeClock(),
) {
  const source = new FakeSource();
  const calls: { key: string; at: number }[] = [];
  const attempts = new Map<string, number>();
  const outcomes: { key: string; outcome: ReconcileOutcome; durationMs: number }[] = [];
  const controller = new Controller(
    resolveControllerOptions<KubeObject>(
      {
        name: 'test',
        informer: source,
        reconciler: {
          reconcile: (key, context) => {
            const attempt = (attempts.get(key.name) ?? 0) + 1;
            attempts.set(key.name, attempt);
            calls.push({ key: key.name, at: clock.now() });
            return behaviour(key, attempt, context);
          },
        },
        workers: 2,
        backoff: { baseMs: 1000, maxMs: 60_000, jitter: 'none' },
        ...spec,
      },
      {
        clock,
        logger: silentLogger(),
        random: () => 0,
        observer: {
          reconciled: (_controller, key, outcome, durationMs) => outcomes.push({ key, outcome, durationMs }),
        },
      },
    ),
  );
  const start = clock.now();
  /** When each call of `name` happened, relative to the start. */
  const timesOf = (name: string) => calls.filter((c) => c.key === name).map((c) => c.at - start);
  return { clock, source, calls, outcomes, controller, timesOf };
}

const ok = (): Promise<undefined> => Promise.resolve(undefined);

describe('Controller', () => {
  it('should reconcile an added object once, and again after the requested requeue', async () => {
    const { clock, source, controller, timesOf } = setup(() => Promise.resolve({ requeueAfterMs: 5000 }));
    source.add(primary('a'));
    controller.start();
    await clock.advance(12_000);
    expect(timesOf('a')).toEqual([0, 5000, 10_000]);
  });

  it('should retry a retryable error with a growing per-key backoff', async () => {
    const { clock, source, controller, timesOf } = setup(() => Promise.reject(new Error('boom')));
    controller.start();
    source.add(primary('a'));
    await clock.advance(8000);
    expect(timesOf('a')).toEqual([0, 1000, 3000, 7000]);
  });

  it.each([
    ['an unknown error', new Error('boom'), [0, 1000, 3000]],
    ['a retryable CoffreError', new CoffreError('x', 'y', { retryable: true }), [0, 1000, 3000]],
    [
      'a Retry-After longer than the backoff',
      new CoffreError('rate_limited', 'slow', { retryable: true, retryAfterMs: 2500 }),
      [0, 2500, 5000],
    ],
  ])('should retry %s', async (_title, error, expected) => {
    const { clock, source, controller, timesOf } = setup(() => Promise.reject(error));
    controller.start();
    source.add(primary('a'));
    await clock.advance(5000);
    expect(timesOf('a')).toEqual(expected);
  });

  it('should let a requeue replace the backoff and reset the failure count', async () => {
    const { clock, source, controller, timesOf } = setup((_key, attempt) =>
      attempt <= 2 || attempt === 4
        ? Promise.reject(new Error('boom'))
        : Promise.resolve({ requeueAfterMs: 10_000 }),
    );
    controller.start();
    source.add(primary('a'));
    await clock.advance(15_000);
    // fail (1 s), fail (2 s), requeue (10 s), fail: backoff starts again at 1 s.
    expect(timesOf('a')).toEqual([0, 1000, 3000, 13_000, 14_000]);
  });

  it.each([
    ['a TerminalError', new TerminalError('invalid_spec', 'fix the spec')],
    [
      'a CoffreError that is not retryable',
      new CoffreError('forbidden_reference', 'no', { retryable: false }),
    ],
  ])('should record %s and not retry it until the object changes', async (_title, error) => {
    const { clock, source, controller, timesOf, outcomes } = setup((_key, attempt) =>
      attempt === 1 ? Promise.reject(error) : ok(),
    );
    controller.start();
    source.add(primary('a'));
    await clock.advance(3_600_000);
    expect(timesOf('a')).toEqual([0]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['terminal']);
    source.update(primary('a', 2));
    await clock.advance(0);
    expect(timesOf('a')).toEqual([0, 3_600_000]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['terminal', 'success']);
  });

  it('should re-run a key whose object changed while its reconcile failed terminally', async () => {
    const { clock, source, controller, timesOf } = setup(async (_key, attempt) => {
      if (attempt === 1) {
        await clock.sleep(100);
        throw new TerminalError('invalid', 'bad');
      }
      return undefined;
    });
    controller.start();
    source.add(primary('a'));
    await clock.advance(50);
    source.update(primary('a', 2));
    await clock.advance(100);
    expect(timesOf('a')).toEqual([0, 100]);
  });

  it('should never let an object that keeps failing or hangs delay the others', async () => {
    const { clock, source, controller, timesOf, calls } = setup(
      async (key) => {
        if (key.name === 'failing') throw new Error('always');
        if (key.name === 'hanging') await new Promise(() => undefined);
        return undefined;
      },
      { workers: 2, reconcileTimeoutMs: 0 },
    );
    controller.start();
    source.add(primary('hanging'));
    source.add(primary('failing'));
    for (let i = 0; i < 50; i++) source.add(primary(`good-${i}`));
    await clock.advance(0);
    expect(calls.filter((c) => c.key.startsWith('good-') && c.at === calls[0]?.at)).toHaveLength(50);
    await clock.advance(10_000);
    expect(timesOf('failing').length).toBeGreaterThan(3);
  });

  it('should run at most N reconciles at once and never one key twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const runningKeys = new Set<string>();
    let overlap = false;
    const clock = new FakeClock();
    const { source, controller } = setup(
      async (key) => {
        if (runningKeys.has(key.name)) overlap = true;
        runningKeys.add(key.name);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await clock.sleep(100);
        running--;
        runningKeys.delete(key.name);
        return undefined;
      },
      { workers: 3 },
      clock,
    );
    controller.start();
    for (let round = 0; round < 5; round++) {
      for (const name of ['a', 'b', 'c', 'd', 'e', 'a', 'b']) source.update(primary(name, round + 1));
      await clock.advance(30);
    }
    for (let i = 0; i < 20; i++) await clock.advance(100);
    expect(maxRunning).toBe(3);
    expect(overlap).toBe(false);
  });

  it('should not reconcile on a status-only update but should on every other change', async () => {
    const { clock, source, controller, timesOf } = setup(ok);
    controller.start();
    source.add(primary('a', 1, '1'));
    await clock.advance(0);
    source.update(primary('a', 1, '2')); // status only: same generation
    await clock.advance(0);
    expect(timesOf('a')).toHaveLength(1);
    source.update(primary('a', 2, '3'));
    await clock.advance(0);
    expect(timesOf('a')).toHaveLength(2);
    source.delete(primary('a', 2, '3'));
    await clock.advance(0);
    expect(timesOf('a')).toHaveLength(3);
  });

  it('should re-queue the dependents of a referenced object found through an index', async () => {
    const { clock, source, controller, timesOf } = setup(ok);
    type Conn = KubeObject & { spec: { secret: string } };
    const conns = source as unknown as FakeSource<Conn>;
    conns.store.addIndex('secret', (c) => [`${c.metadata?.namespace ?? ''}/${c.spec.secret}`]);
    const secrets = new FakeSource('secrets');
    controller.watches(secrets, (secret) =>
      conns.store
        .byIndex('secret', `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`)
        .map((c) => ({
          namespace: c.metadata?.namespace ?? '',
          name: c.metadata?.name ?? '',
        })),
    );
    controller.start();
    conns.add({ ...primary('uses-x'), spec: { secret: 'x' } });
    conns.add({ ...primary('uses-y'), spec: { secret: 'y' } });
    await clock.advance(0);
    secrets.update({ metadata: { namespace: 'ns', name: 'x', resourceVersion: '5' } });
    await clock.advance(0);
    expect(timesOf('uses-x')).toHaveLength(2);
    expect(timesOf('uses-y')).toHaveLength(1);
  });

  it('should re-queue the owner when an owned object changes', async () => {
    const { clock, source, controller, timesOf } = setup(ok);
    const owned = new FakeSource('secrets');
    controller.owns(owned, { group: 'coffre.dev', kind: 'VaultConnection' });
    controller.start();
    source.add(primary('conn'));
    await clock.advance(0);
    owned.add({
      metadata: {
        namespace: 'ns',
        name: 'conn-token',
        resourceVersion: '9',
        ownerReferences: [
          {
            apiVersion: 'coffre.dev/v1alpha1',
            kind: 'VaultConnection',
            name: 'conn',
            uid: 'u',
            controller: true,
          },
        ],
      },
    });
    await clock.advance(0);
    expect(timesOf('conn')).toHaveLength(2);
  });

  it('should not re-queue for an event the claim takes, until it releases it; deletions always queue', async () => {
    const { clock, source, controller, timesOf } = setup(ok);
    const owned = new FakeSource('secrets');
    // Versions claimed as our own writes; a held event waits in `held` until released.
    const ours = new Set(['9']);
    const held: (() => void)[] = [];
    controller.owns(
      owned,
      { group: 'coffre.dev', kind: 'VaultConnection' },
      {
        claim: (secret, release) => {
          const version = secret.metadata?.resourceVersion ?? '';
          if (version === 'held') held.push(release);
          return ours.has(version) || version === 'held';
        },
      },
    );
    controller.start();
    source.add(primary('conn'));
    source.add(primary('other'));
    await clock.advance(0);
    const secret = (resourceVersion: string, owner: string) => ({
      metadata: {
        namespace: 'ns',
        name: 'conn-token',
        resourceVersion,
        ownerReferences: [
          {
            apiVersion: 'coffre.dev/v1alpha1',
            kind: 'VaultConnection',
            name: owner,
            uid: 'u',
            controller: true,
          },
        ],
      },
    });
    owned.add(secret('9', 'conn'));
    await clock.advance(0);
    expect(timesOf('conn')).toHaveLength(1);
    // Someone else's change.
    owned.update(secret('10', 'conn'));
    await clock.advance(0);
    expect(timesOf('conn')).toHaveLength(2);
    // Our own write that moved the Secret to another owner: the one it left still looks again.
    ours.add('11');
    owned.update(secret('11', 'other'));
    await clock.advance(0);
    expect(timesOf('conn')).toHaveLength(3);
    expect(timesOf('other')).toHaveLength(1);
    // Held, then released: it queues then.
    owned.update(secret('held', 'other'));
    await clock.advance(0);
    expect(timesOf('other')).toHaveLength(1);
    for (const release of held) release();
    await clock.advance(0);
    expect(timesOf('other')).toHaveLength(2);
    // A deletion always counts.
    owned.delete(secret('held', 'other'));
    await clock.advance(0);
    expect(timesOf('other')).toHaveLength(3);
  });

  it('should finish in-flight reconciles on stop, take no more work, and report it drained', async () => {
    const clock = new FakeClock();
    let finished = false;
    const { source, controller, calls } = setup(
      async () => {
        await clock.sleep(1000);
        finished = true;
        return undefined;
      },
      {},
      clock,
    );
    controller.start();
    source.add(primary('a'));
    await Promise.resolve();
    const stopped = controller.stop(5000);
    source.add(primary('b'));
    await clock.advance(1000);
    expect(await stopped).toEqual({ drained: true, abandoned: [] });
    expect(finished).toBe(true);
    expect(calls.map((c) => c.key)).toEqual(['a']);
  });

  it('should abort in-flight reconciles at the shutdown deadline and report those that ignore it', async () => {
    const { clock, source, controller, outcomes } = setup(
      (key, _attempt, { signal }) =>
        key.name === 'stubborn'
          ? new Promise(() => undefined)
          : new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                reject(signal.reason as Error);
              });
            }),
      { abortGraceMs: 1000, reconcileTimeoutMs: 0 },
    );
    controller.start();
    source.add(primary('polite'));
    source.add(primary('stubborn'));
    await clock.advance(0);
    const stopped = controller.stop(5000);
    await clock.advance(4999);
    expect(outcomes).toEqual([]);
    await clock.advance(1);
    expect(outcomes.map((o) => `${o.key} ${o.outcome}`)).toEqual(['ns/polite aborted']);
    await clock.advance(1000);
    expect(await stopped).toEqual({ drained: false, abandoned: ['ns/stubborn'] });
  });

  it('should abort reconciles at once and take no more work when told (leadership lost)', async () => {
    const { clock, source, controller, outcomes, calls } = setup((_key, _attempt, { signal }) => {
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(signal.reason as Error);
        });
      });
    });
    controller.start();
    source.add(primary('a'));
    await clock.advance(0);
    controller.abort('leadership lost');
    await clock.advance(0);
    source.add(primary('b'));
    await clock.advance(10_000);
    expect(outcomes.map((o) => o.outcome)).toEqual(['aborted']);
    expect(calls.map((c) => c.key)).toEqual(['a']);
  });

  it('should abort a reconcile that exceeds its timeout and retry it', async () => {
    const { clock, source, controller, timesOf } = setup(
      (_key, attempt, { signal }) =>
        attempt === 1
          ? new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                reject(signal.reason as Error);
              });
            })
          : ok(),
      { reconcileTimeoutMs: 30_000 },
    );
    controller.start();
    source.add(primary('a'));
    await clock.advance(31_000);
    expect(timesOf('a')).toEqual([0, 31_000]);
  });

  it('should report each outcome with its duration', async () => {
    const clock = new FakeClock();
    const { source, controller, outcomes } = setup(
      async (key) => {
        await clock.sleep(250);
        if (key.name === 'bad') throw new Error('x');
        return key.name === 'later' ? { requeueAfterMs: 1_000_000 } : undefined;
      },
      {},
      clock,
    );
    controller.start();
    source.add(primary('good'));
    source.add(primary('bad'));
    await clock.advance(250);
    source.add(primary('later'));
    await clock.advance(250);
    expect(outcomes.map((o) => `${o.key} ${o.outcome} ${o.durationMs}`)).toEqual([
      'ns/good success 250',
      'ns/bad error 250',
      'ns/later requeue 250',
    ]);
  });
});

describe('ownersOf', () => {
  const ref = (apiVersion: string, kind: string, controller?: boolean) => ({
    apiVersion,
    kind,
    name: `${kind}-owner`,
    uid: 'u',
    ...(controller === undefined ? {} : { controller }),
  });
  it.each([
    [
      'the controlling owner of the kind',
      [ref('coffre.dev/v1alpha1', 'VaultConnection', true)],
      true,
      ['VaultConnection-owner'],
    ],
    [
      'a non-controller reference when controllerOnly is false',
      [ref('coffre.dev/v1', 'VaultConnection')],
      false,
      ['VaultConnection-owner'],
    ],
    [
      'nothing for a non-controller reference by default',
      [ref('coffre.dev/v1', 'VaultConnection')],
      true,
      [],
    ],
    ['nothing for the same kind in another group', [ref('other.io/v1', 'VaultConnection', true)], true, []],
    ['nothing for another kind', [ref('coffre.dev/v1', 'OAuthClient', true)], true, []],
  ])('should map to %s', (_title, refs, controllerOnly, expected) => {
    const map = ownersOf({ group: 'coffre.dev', kind: 'VaultConnection', controllerOnly });
    expect(
      map({ metadata: { namespace: 'ns', name: 'x', ownerReferences: refs } }).map((k) => k.name),
    ).toEqual(expected);
  });
});

describe('changedBeyondStatus', () => {
  const base: KubeObject = {
    metadata: { uid: 'u', generation: 1, resourceVersion: '1', annotations: { a: '1' }, labels: { l: '1' } },
  };
  it.each([
    ['a status-only update', { metadata: { ...base.metadata, resourceVersion: '2' } }, false],
    ['a spec change (generation)', { metadata: { ...base.metadata, generation: 2 } }, true],
    [
      'an annotation change (force refresh)',
      { metadata: { ...base.metadata, annotations: { a: '2' } } },
      true,
    ],
    ['a label change', { metadata: { ...base.metadata, labels: {} } }, true],
    ['a finalizer change', { metadata: { ...base.metadata, finalizers: ['x'] } }, true],
    ['a deletion', { metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, true],
    ['an object without generation', { metadata: { resourceVersion: '2' } }, true],
  ])('should decide on %s: %s', (_title, updated, expected) => {
    const old =
      updated.metadata.generation === undefined && updated.metadata.uid === undefined
        ? { metadata: { resourceVersion: '1' } }
        : base;
    expect(changedBeyondStatus(old, updated)).toBe(expected);
  });
});
