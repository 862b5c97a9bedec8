import { describe, expect, it } from 'vitest';
import { sameStatus, statusPatch } from '../../../src/reconcilers/report.ts';
import {
  acknowledgedForceRefresh,
  desiredConditions,
  desiredStatus,
  progressStatus,
  type StatusInput,
} from '../../../src/reconcilers/vault-connection/status.ts';

const now = Date.parse('2026-11-22T12:00:00Z');
const base: Omit<StatusInput, 'outcome'> = {
  generation: 2,
  record: undefined,
  secretName: 'x-token',
  expiring: true,
  now,
};
const valid = { dataHash: 'h', issuedAt: now - 60_000, expiresAt: now + 60_000 };
const expired = { dataHash: 'h', issuedAt: now - 120_000, expiresAt: now - 1 };

function summary(input: StatusInput): string[] {
  return desiredConditions(input).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

describe('desiredConditions', () => {
  it.each([
    [
      'should report an empty connection as Empty, not Ready, with nothing expired',
      { ...base, outcome: { kind: 'empty', reason: 'SecretNotFound', message: 'Secret x not found' } },
      [
        'Ready=False/SecretNotFound',
        'Empty=True/SecretNotFound',
        'Expired=False/NoToken',
        'Reconciling=False/SecretNotFound',
        'Stalled=False/SecretNotFound',
      ],
    ],
    [
      'should report a valid token as Ready',
      { ...base, record: valid, outcome: { kind: 'token-valid' } },
      [
        'Ready=True/TokenValid',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=False/TokenValid',
        'Stalled=False/TokenValid',
      ],
    ],
    [
      'should report Expired with the failure reason when the token expired and renewal failed',
      {
        ...base,
        record: expired,
        outcome: { kind: 'token-failed', reason: 'EndpointUnreachable', message: 'down' },
      },
      [
        'Ready=False/EndpointUnreachable',
        'Empty=False/CredentialsPresent',
        'Expired=True/EndpointUnreachable',
        'Reconciling=True/EndpointUnreachable',
        'Stalled=False/EndpointUnreachable',
      ],
    ],
    [
      'should keep Ready=True while a renewal of the still valid token is retried',
      {
        ...base,
        record: { ...valid, requestHash: 'r1' },
        outcome: { kind: 'token-failed', reason: 'RateLimited', message: 'slow down', requestHash: 'r1' },
      },
      [
        'Ready=True/RenewalFailing',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=True/RateLimited',
        'Stalled=False/RateLimited',
      ],
    ],
    [
      'should keep Ready=True but say Stalled when a renewal of the still valid token needs a person',
      {
        ...base,
        record: { ...valid, requestHash: 'r1' },
        outcome: { kind: 'token-failed', reason: 'InvalidClient', message: 'no', requestHash: 'r1' },
      },
      [
        'Ready=True/RenewalFailing',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=False/InvalidClient',
        'Stalled=True/InvalidClient',
      ],
    ],
    [
      'should not call a token for the old spec or credentials Ready when the new request failed',
      {
        ...base,
        record: { ...valid, requestHash: 'old' },
        outcome: { kind: 'token-failed', reason: 'RateLimited', message: 'slow down', requestHash: 'new' },
      },
      [
        'Ready=False/RateLimited',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=True/RateLimited',
        'Stalled=False/RateLimited',
      ],
    ],
    [
      'should report static credentials as never expiring',
      { ...base, expiring: false, record: { dataHash: 'h' }, outcome: { kind: 'static-published' } },
      [
        'Ready=True/CredentialsPublished',
        'Empty=False/CredentialsPresent',
        'Expired=False/DoesNotExpire',
        'Reconciling=False/CredentialsPublished',
        'Stalled=False/CredentialsPublished',
      ],
    ],
    [
      'should report retiring static credentials as Ready, with the reason that says they retire',
      {
        ...base,
        expiring: false,
        record: { dataHash: 'h' },
        outcome: { kind: 'static-published', retiring: 'the service retires them on 2027-04-30' },
      },
      [
        'Ready=True/CredentialsRetiring',
        'Empty=False/CredentialsPresent',
        'Expired=False/DoesNotExpire',
        'Reconciling=False/CredentialsRetiring',
        'Stalled=False/CredentialsRetiring',
      ],
    ],
    [
      'should not claim to know whether credentials exist while the spec is invalid',
      { ...base, outcome: { kind: 'invalid-spec', message: 'spec.type: is required' } },
      [
        'Ready=False/InvalidSpec',
        'Empty=Unknown/InvalidSpec',
        'Expired=False/NoToken',
        'Reconciling=False/InvalidSpec',
        'Stalled=True/InvalidSpec',
      ],
    ],
    [
      'should report a blocked connection whose credentials cannot be told as Empty=Unknown',
      {
        ...base,
        outcome: {
          kind: 'blocked',
          reason: 'CrossNamespaceReference',
          message: 'no',
          credentials: 'unknown',
        },
      },
      [
        'Ready=False/CrossNamespaceReference',
        'Empty=Unknown/CrossNamespaceReference',
        'Expired=False/NoToken',
        'Reconciling=False/CrossNamespaceReference',
        'Stalled=True/CrossNamespaceReference',
      ],
    ],
  ] as [string, StatusInput, string[]][])('%s', (_title, input, expected) => {
    expect(summary(input)).toEqual(expected);
  });
});

describe('desiredStatus', () => {
  it('should carry the token fields in whole seconds and be stable when computed again', () => {
    const input: StatusInput = {
      ...base,
      record: { ...valid, grantedScopes: ['a'] },
      outcome: { kind: 'token-valid' },
      nextRefreshAt: now + 20_500,
    };
    const first = desiredStatus(undefined, input);
    expect(first).toMatchObject({
      observedGeneration: 2,
      secretName: 'x-token',
      lastRefreshTime: '2026-11-22T11:59:00Z',
      expiresAt: '2026-11-22T12:01:00Z',
      nextRefreshTime: '2026-11-22T12:00:20Z',
      grantedScopes: ['a'],
    });
    const again = desiredStatus(first, { ...input, now: now + 5000 });
    expect(sameStatus(again, first)).toBe(true);
  });

  it('should drop the token fields when a token connection becomes Empty', () => {
    const token = desiredStatus(undefined, {
      ...base,
      record: { ...valid, grantedScopes: ['a'] },
      outcome: { kind: 'token-valid' },
      nextRefreshAt: now + 20_500,
    });
    const empty = desiredStatus(token, {
      ...base,
      record: { ...valid, grantedScopes: ['a'] },
      outcome: { kind: 'empty', reason: 'SecretNotFound', message: 'Secret x not found' },
    });
    expect(Object.keys(empty).sort()).toEqual(['conditions', 'observedGeneration', 'secretName']);
    // As sent: a merge patch must name the fields to remove.
    expect(statusPatch(empty, token)).toMatchObject({
      expiresAt: null,
      lastRefreshTime: null,
      nextRefreshTime: null,
      grantedScopes: null,
    });
  });

  it('should note progress without touching the other conditions or fields', () => {
    const token = desiredStatus(undefined, {
      ...base,
      record: valid,
      outcome: { kind: 'token-valid' },
      nextRefreshAt: now + 20_500,
    });
    const progress = progressStatus(token, { reason: 'Renewing', message: 'renewing' }, 2, now + 1000);
    expect({ ...progress, conditions: undefined }).toEqual({ ...token, conditions: undefined });
    expect(progress.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Ready=True/TokenValid',
      'Empty=False/CredentialsPresent',
      'Expired=False/TokenValid',
      'Reconciling=True/Renewing',
      'Stalled=False/Renewing',
    ]);
  });

  it('should treat key order as irrelevant when comparing', () => {
    expect(sameStatus({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toBe(true);
    expect(sameStatus({ a: 1 }, { a: 2 })).toBe(false);
  });
});

describe('acknowledgedForceRefresh', () => {
  const failed = { kind: 'token-failed', reason: 'EndpointUnreachable', message: 'down' } as const;
  it.each<[string, Parameters<typeof acknowledgedForceRefresh>[0], string | undefined]>([
    [
      'should acknowledge a value once the published token was written for it',
      { previous: '1', requested: '2', handled: '2', outcome: { kind: 'token-valid' } },
      '2',
    ],
    [
      'should acknowledge a value whose request failed: Ready says why',
      { previous: '1', requested: '2', handled: '1', outcome: failed },
      '2',
    ],
    [
      'should acknowledge a value on a connection that cannot publish (empty)',
      {
        previous: undefined,
        requested: '2',
        handled: undefined,
        outcome: { kind: 'empty', reason: 'SecretNotFound', message: 'Secret x not found' },
      },
      '2',
    ],
    [
      'should not flip back to the handled value after a failure was acknowledged',
      { previous: '2', requested: '2', handled: '1', outcome: { kind: 'token-valid' } },
      '2',
    ],
    [
      'should keep the previous value while a forced value is not handled yet',
      { previous: '1', requested: '2', handled: '1', outcome: { kind: 'token-valid' } },
      '1',
    ],
    [
      'should keep the previous value when the annotation is removed',
      { previous: '2', requested: undefined, handled: undefined, outcome: { kind: 'static-published' } },
      '2',
    ],
    [
      'should record nothing for an empty annotation',
      { previous: undefined, requested: '', handled: undefined, outcome: failed },
      undefined,
    ],
    [
      'should not record a value longer than status allows',
      { previous: '1', requested: 'x'.repeat(1025), handled: 'x'.repeat(1025), outcome: failed },
      '1',
    ],
  ])('%s', (_name, input, expected) => {
    expect(acknowledgedForceRefresh(input)).toBe(expected);
  });

  it('should put the acknowledged value in status', () => {
    const status = desiredStatus(undefined, {
      ...base,
      record: valid,
      outcome: { kind: 'token-valid' },
      observedForceRefresh: '2026-11-22T12:00:00Z',
    });
    expect(status.observedForceRefresh).toBe('2026-11-22T12:00:00Z');
  });
});
