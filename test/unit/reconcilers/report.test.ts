import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../src/api/v1alpha1/conditions.ts';
import { reportStatus, type ReportKind } from '../../../src/reconcilers/report.ts';
import { FakeEvents, FakeKubePort } from './support/fake-kube.ts';

const kind: ReportKind = {
  resource: { group: 'coffre.dev', version: 'v1alpha1', plural: 'vaultconnections' },
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'VaultConnection',
  normallyFalse: new Set(['Empty']),
  isWarning: (c) => c.type === 'Ready' && c.status !== 'True',
};

function condition(type: string, status: Condition['status'], reason: string): Condition {
  return {
    type,
    status,
    reason,
    message: `${type} is ${status}`,
    observedGeneration: 1,
    lastTransitionTime: '2026-11-22T12:00:00Z',
  };
}

function object(conditions?: Condition[]) {
  return {
    metadata: { namespace: 'payments', name: 'auth0-management', uid: 'uid-1' },
    ...(conditions === undefined ? {} : { status: { observedGeneration: 1, conditions } }),
  };
}

async function report(before: Condition[] | undefined, after: Condition[]) {
  const port = new FakeKubePort();
  const events = new FakeEvents();
  const result = await reportStatus(
    { port, events },
    kind,
    object(before),
    { observedGeneration: 1, conditions: after },
    new AbortController().signal,
  );
  return { result, port, events };
}

const ready = condition('Ready', 'True', 'TokenValid');
const notReady = condition('Ready', 'False', 'EndpointUnreachable');
const notEmpty = condition('Empty', 'False', 'CredentialsPresent');
const empty = condition('Empty', 'True', 'SecretNotFound');

describe('reportStatus', () => {
  it.each<[string, Condition[] | undefined, Condition[], number, string[]]>([
    [
      'should neither patch nor emit when the status is unchanged',
      [ready, notEmpty],
      [ready, notEmpty],
      0,
      [],
    ],
    [
      'should patch and announce a first status, quiet about conditions in their normal False state',
      undefined,
      [ready, notEmpty],
      1,
      ['Normal TokenValid'],
    ],
    [
      'should emit a Warning when Ready turns False',
      [ready, notEmpty],
      [notReady, notEmpty],
      1,
      ['Warning EndpointUnreachable'],
    ],
    [
      'should emit Normal when Ready turns True again',
      [notReady, notEmpty],
      [ready, notEmpty],
      1,
      ['Normal TokenValid'],
    ],
    [
      'should announce a normally-False condition turning True',
      [notReady, notEmpty],
      [notReady, empty],
      1,
      ['Normal SecretNotFound'],
    ],
    [
      'should patch a changed message without an Event',
      [ready, notEmpty],
      [{ ...ready, message: 'valid until 13:00' }, notEmpty],
      1,
      [],
    ],
  ])('%s', async (_title, before, after, patches, events) => {
    const outcome = await report(before, after);
    expect(outcome.port.patches).toHaveLength(patches);
    expect(outcome.result.changed).toBe(patches > 0);
    expect(outcome.events.summary).toEqual(events);
  });

  it('should name the object in its Events and return what the server stored', async () => {
    const { result, events } = await report([ready, notEmpty], [notReady, notEmpty]);
    expect(events.recorded[0]).toMatchObject({
      target: {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        namespace: 'payments',
        name: 'auth0-management',
        uid: 'uid-1',
      },
      message: 'Ready=False: Ready is False',
    });
    expect(result).toMatchObject({ changed: true, stored: { metadata: { resourceVersion: '101' } } });
  });

  it('should write nothing once the reconcile is aborted', async () => {
    const port = new FakeKubePort();
    const abort = new AbortController();
    abort.abort(new Error('lost leadership'));
    await expect(
      reportStatus(
        { port, events: new FakeEvents() },
        kind,
        object(),
        { observedGeneration: 1, conditions: [ready] },
        abort.signal,
      ),
    ).rejects.toThrow('lost leadership');
    expect(port.patches).toEqual([]);
  });
});

describe('reportStatus removals', () => {
  it('should remove, with a null in the merge patch, a status field the desired status lacks', async () => {
    const port = new FakeKubePort();
    const current: {
      metadata: { namespace: string; name: string; uid: string };
      status: {
        observedGeneration: number;
        conditions: Condition[];
        failedAttempts?: number;
        nextRetryTime?: string;
      };
    } = {
      metadata: { namespace: 'payments', name: 'auth0-management', uid: 'uid-1' },
      status: { observedGeneration: 1, conditions: [ready], failedAttempts: 2, nextRetryTime: 'x' },
    };
    await reportStatus(
      { port, events: new FakeEvents() },
      kind,
      current,
      { observedGeneration: 1, conditions: [ready] },
      new AbortController().signal,
    );
    expect(port.patches).toEqual([
      {
        name: 'auth0-management',
        status: { observedGeneration: 1, conditions: [ready], failedAttempts: null, nextRetryTime: null },
      },
    ]);
  });
});
