import { describe, expect, it } from 'vitest';
import { mergeConditions, transitions } from '../../../src/reconcilers/conditions.ts';

const t0 = new Date('2026-11-22T12:00:00Z');
const t1 = new Date('2026-11-22T12:05:00.750Z');

describe('mergeConditions', () => {
  const ready = {
    type: 'Ready',
    status: 'False' as const,
    reason: 'SecretNotFound',
    message: 'Secret crm not found',
  };

  it('should stamp lastTransitionTime and observedGeneration on a new condition', () => {
    expect(mergeConditions(undefined, [ready], 3, t0)).toEqual([
      { ...ready, observedGeneration: 3, lastTransitionTime: '2026-11-22T12:00:00Z' },
    ]);
  });

  it('should keep lastTransitionTime when only the reason or message changes', () => {
    const before = mergeConditions(undefined, [ready], 1, t0);
    const after = mergeConditions(before, [{ ...ready, reason: 'KeysMissing', message: 'other' }], 2, t1);
    expect(after[0]?.lastTransitionTime).toBe('2026-11-22T12:00:00Z');
    expect(after[0]?.observedGeneration).toBe(2);
  });

  it('should move lastTransitionTime, at second precision, when the status flips', () => {
    const before = mergeConditions(undefined, [ready], 1, t0);
    const after = mergeConditions(before, [{ ...ready, status: 'True', reason: 'TokenValid' }], 1, t1);
    expect(after[0]?.lastTransitionTime).toBe('2026-11-22T12:05:00Z');
  });

  it('should be stable: merging the same desired state again changes nothing', () => {
    const once = mergeConditions(undefined, [ready], 1, t0);
    expect(mergeConditions(once, [ready], 1, t1)).toEqual(once);
  });

  it('should keep conditions of other types that it does not manage', () => {
    const foreign = {
      type: 'Foo',
      status: 'True' as const,
      reason: 'Bar',
      message: '',
      lastTransitionTime: 'x',
    };
    expect(mergeConditions([foreign], [ready], 1, t0).map((c) => c.type)).toEqual(['Ready', 'Foo']);
  });

  it('should truncate very long messages', () => {
    const merged = mergeConditions(undefined, [{ ...ready, message: 'x'.repeat(5000) }], 1, t0);
    expect(merged[0]?.message.length).toBe(1024);
  });
});

describe('transitions', () => {
  it('should report status and reason changes, not message changes', () => {
    const before = mergeConditions(
      undefined,
      [{ type: 'Ready', status: 'False', reason: 'A', message: 'm1' }],
      1,
      t0,
    );
    const sameReason = mergeConditions(
      before,
      [{ type: 'Ready', status: 'False', reason: 'A', message: 'm2' }],
      1,
      t1,
    );
    expect(transitions(before, sameReason)).toEqual([]);
    const newReason = mergeConditions(
      before,
      [{ type: 'Ready', status: 'False', reason: 'B', message: 'm2' }],
      1,
      t1,
    );
    expect(transitions(before, newReason).map((t) => t.condition.reason)).toEqual(['B']);
  });

  it('keeps conditions that are news when True quiet in their normal False state', () => {
    const quiet = new Set(['Empty', 'Expired']);
    const want = (ready: string, empty: string, expired: string, expiredReason = 'TokenValid') => [
      {
        type: 'Ready',
        status: ready as 'True',
        reason: ready === 'True' ? 'TokenValid' : 'TokenEndpointError',
        message: '',
      },
      {
        type: 'Empty',
        status: empty as 'False',
        reason: empty === 'True' ? 'SecretNotFound' : 'CredentialsPresent',
        message: '',
      },
      { type: 'Expired', status: expired as 'False', reason: expiredReason, message: '' },
    ];
    const summary = (list: ReturnType<typeof transitions>) =>
      list.map((t) => `${t.condition.type}=${t.condition.status}/${t.condition.reason}`);

    // A new connection: one Event, Ready's; Empty=False and Expired=False are not news.
    const created = mergeConditions(undefined, want('True', 'False', 'False'), 1, t0);
    expect(summary(transitions(undefined, created, quiet))).toEqual(['Ready=True/TokenValid']);
    // Without the set, every appearance counts (as for the OAuthClient's conditions).
    expect(transitions(undefined, created)).toHaveLength(3);

    // A new reason while False is detail; a flip either way is news.
    const renamed = mergeConditions(created, want('True', 'False', 'False', 'NoToken'), 1, t1);
    expect(summary(transitions(created, renamed, quiet))).toEqual([]);
    const expired = mergeConditions(created, want('False', 'False', 'True', 'TokenExpired'), 1, t1);
    expect(summary(transitions(created, expired, quiet))).toEqual([
      'Ready=False/TokenEndpointError',
      'Expired=True/TokenExpired',
    ]);
    const recovered = mergeConditions(expired, want('True', 'False', 'False'), 1, t1);
    expect(summary(transitions(expired, recovered, quiet))).toEqual([
      'Ready=True/TokenValid',
      'Expired=False/TokenValid',
    ]);
    const emptied = mergeConditions(undefined, want('False', 'True', 'False'), 1, t0);
    expect(summary(transitions(undefined, emptied, quiet))).toEqual([
      'Ready=False/TokenEndpointError',
      'Empty=True/SecretNotFound',
    ]);
  });

  it('should raise no Event for a connection Ready at once, and one for every change after', () => {
    const normallyFalse = new Set(['Empty', 'Expired']);
    const firstTrue = new Set(['Ready']);
    const ready = (status: 'True' | 'False' | 'Unknown', reason: string) => [
      { type: 'Ready', status, reason, message: '' },
      { type: 'Empty', status: 'False' as const, reason: 'CredentialsPresent', message: '' },
    ];
    const summary = (list: ReturnType<typeof transitions>) =>
      list.map((t) => `${t.condition.type}=${t.condition.status}/${t.condition.reason}`);
    const at = (before: ReturnType<typeof mergeConditions> | undefined, want: ReturnType<typeof ready>) =>
      mergeConditions(before, want, 1, t1);

    // Created and Ready in one step: the status says it all.
    const created = at(undefined, ready('True', 'TokenValid'));
    expect(transitions(undefined, created, normallyFalse, firstTrue)).toEqual([]);
    // Its first problem is news, and so is the recovery.
    const failed = at(created, ready('False', 'TokenEndpointError'));
    expect(summary(transitions(created, failed, normallyFalse, firstTrue))).toEqual([
      'Ready=False/TokenEndpointError',
    ]);
    expect(
      summary(transitions(failed, at(failed, ready('True', 'TokenValid')), normallyFalse, firstTrue)),
    ).toEqual(['Ready=True/TokenValid']);
    // Ready after a slow first token (Ready=Unknown while it was on its way): not news either.
    const noted = at(undefined, ready('Unknown', 'Reconciling'));
    expect(transitions(noted, at(noted, ready('True', 'TokenValid')), normallyFalse, firstTrue)).toEqual([]);
    // Created with a problem: an Event at once.
    const blocked = at(undefined, ready('False', 'SecretNotFound'));
    expect(summary(transitions(undefined, blocked, normallyFalse, firstTrue))).toEqual([
      'Ready=False/SecretNotFound',
    ]);
  });
});
