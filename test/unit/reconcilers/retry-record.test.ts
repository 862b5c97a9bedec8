// The retry state recorded in status and read back by a restarted operator (or a new leader): the backoff
// goes on where it was, a Retry-After is still honoured, and a changed request is tried at once.
import { describe, expect, it } from 'vitest';
import type { VaultConnectionStatus } from '../../../src/api/v1alpha1/vault-connection.ts';
import { OAuthError } from '../../../src/oauth/index.ts';
import type { RetryState } from '../../../src/reconcilers/vault-connection/gather.ts';
import {
  decide,
  judgeFailure,
  retryDigest,
  type TokenToRequest,
} from '../../../src/reconcilers/vault-connection/policy.ts';
import {
  retryFromStatus,
  retryStatusFields,
} from '../../../src/reconcilers/vault-connection/retry-record.ts';
import { desiredStatus } from '../../../src/reconcilers/vault-connection/status.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { env, hashOf, observe, recordKey, vaultConnection } from './support/connections.ts';

const connection = vaultConnection();
const digest = retryDigest(connection, hashOf(observe(connection)), recordKey);
const failedReady = {
  type: 'Ready',
  status: 'False' as const,
  reason: 'RateLimited',
  message: 'slow down',
  observedGeneration: 1,
  lastTransitionTime: '2026-11-22T11:59:00Z',
};

/** What one process records after a failure at `at`, as status (the API server's copy). */
function recorded(retry: RetryState): VaultConnectionStatus {
  return desiredStatus(undefined, {
    generation: 1,
    outcome: { kind: 'token-failed', reason: retry.reason, message: retry.message },
    record: undefined,
    secretName: 'x-token',
    expiring: true,
    retry,
    now: retry.failedAt,
  });
}

function requestFor(at: number): TokenToRequest {
  const decision = decide(observe(connection), { ...env, now: at });
  if (decision.kind !== 'request') throw new Error(`expected a request, got ${decision.kind}`);
  return decision.token;
}

describe('retryStatusFields and retryFromStatus', () => {
  const clock = new FakeClock();
  const base: RetryState = {
    failures: 3,
    failedAt: clock.now(),
    notBefore: clock.now() + 7_250,
    requestDigest: digest,
    reason: 'RateLimited',
    message: 'slow down',
  };

  it('should record the attempts, the failure time, the next retry rounded up and the request digest', () => {
    expect(retryStatusFields(base)).toEqual({
      failedAttempts: 3,
      lastFailureTime: '2026-11-22T12:00:00Z',
      nextRetryTime: '2026-11-22T12:00:08Z',
      failedRequest: digest,
    });
  });

  it.each<[string, VaultConnectionStatus | undefined, Partial<RetryState> | undefined]>([
    ['should restore nothing without a status', undefined, undefined],
    ['should restore nothing after a success (no failure fields)', { conditions: [failedReady] }, undefined],
    [
      'should restore the attempts, failure time, deadline and reason',
      { ...retryStatusFields(base), conditions: [failedReady] },
      { failures: 3, notBefore: clock.now() + 8_000, reason: 'RateLimited', message: 'slow down' },
    ],
    [
      'should let a new process try once more after a terminal error (its configuration may have changed)',
      { ...retryStatusFields({ ...base, notBefore: Number.POSITIVE_INFINITY }), conditions: [failedReady] },
      { failures: 3, notBefore: clock.now() },
    ],
    [
      'should keep a refused refresh token refused: a new leader does not send it again (finding 5)',
      {
        ...retryStatusFields({ ...base, notBefore: Number.POSITIVE_INFINITY }),
        conditions: [{ ...failedReady, reason: 'ReauthorizationRequired', message: 'refused' }],
      },
      { notBefore: Number.POSITIVE_INFINITY, reason: 'ReauthorizationRequired', message: 'refused' },
    ],
    [
      'should read why from Stalled while the published token is still valid (Ready=True, RenewalFailing)',
      {
        ...retryStatusFields({ ...base, notBefore: Number.POSITIVE_INFINITY }),
        conditions: [
          { ...failedReady, status: 'True', reason: 'RenewalFailing', message: 'valid until …' },
          {
            ...failedReady,
            type: 'Stalled',
            status: 'True',
            reason: 'ReauthorizationRequired',
            message: 'refused',
          },
        ],
      },
      { notBefore: Number.POSITIVE_INFINITY, reason: 'ReauthorizationRequired', message: 'refused' },
    ],
    [
      'should name a generic reason when Ready does not say why',
      { ...retryStatusFields(base) },
      { reason: 'TokenRequestFailed', message: 'the last token request failed' },
    ],
    [
      'should restore nothing from an unparsable failure time',
      { ...retryStatusFields(base), lastFailureTime: 'yesterday', conditions: [failedReady] },
      undefined,
    ],
  ])('%s', (_title, status, expected) => {
    const restored = retryFromStatus(status);
    if (expected === undefined) expect(restored).toBeUndefined();
    else expect(restored).toMatchObject(expected);
  });
});

describe('backoff across a restart (fake clock)', () => {
  // Each row: failures so far, then what a process that starts `afterMs` after the last failure does.
  it.each<[string, { error: OAuthError; failures: number; afterMs: number }, string, number | undefined]>([
    [
      'should keep waiting out a Retry-After the previous process was told',
      {
        error: new OAuthError('rate_limited', '429', { retryAfterMs: 600_000 }),
        failures: 0,
        afterMs: 30_000,
      },
      'wait',
      570_000,
    ],
    [
      'should keep waiting out the backoff of the fifth failure',
      { error: new OAuthError('server_error', '503'), failures: 4, afterMs: 1_000 },
      'wait',
      // 2 s × 2^4 = 32 s, equal jitter at random 0: 16 s, from the failure; 1 s later: 15 s left.
      15_000,
    ],
    [
      'should request again once the recorded deadline has passed',
      { error: new OAuthError('server_error', '503'), failures: 0, afterMs: 5_000 },
      'request',
      undefined,
    ],
    [
      'should try once more after a terminal error (an allowlist or CA may have changed with the restart)',
      { error: new OAuthError('invalid_client', 'bad'), failures: 0, afterMs: 1_000 },
      'request',
      undefined,
    ],
  ])('%s', async (_title, { error, failures, afterMs }, expected, requeueAfterMs) => {
    const clock = new FakeClock();
    const observed = observe(connection);
    const previous =
      failures === 0
        ? undefined
        : ({
            failures,
            failedAt: clock.now() - 1,
            notBefore: clock.now(),
            requestDigest: digest,
            reason: 'ServerError',
            message: '503',
          } satisfies RetryState);
    const verdict = judgeFailure(
      { ...observed, retry: previous },
      requestFor(clock.now()),
      error,
      clock.now(),
      () => 0,
    );
    // The process stops; the next one only has the status.
    const status = { ...recorded(verdict.retry), conditions: [failedReady] };
    await clock.advance(afterMs);
    const restored = retryFromStatus(status);
    expect(restored?.failures).toBe(failures + 1);
    const decision = decide(observe(connection, { ...(restored === undefined ? {} : { retry: restored }) }), {
      ...env,
      now: clock.now(),
    });
    expect(decision.kind).toBe(expected);
    if (decision.kind === 'wait') expect(decision.requeueAfterMs).toBe(requeueAfterMs);
  });

  it('should try a changed request at once, whatever the recorded backoff', () => {
    const status = {
      ...recorded({
        failures: 5,
        failedAt: env.now,
        notBefore: env.now + 300_000,
        requestDigest: 'another request',
        reason: 'ServerError',
        message: '503',
      }),
      conditions: [failedReady],
    };
    const restored = retryFromStatus(status);
    expect(
      decide(observe(connection, { ...(restored === undefined ? {} : { retry: restored }) }), env).kind,
    ).toBe('request');
  });
});
