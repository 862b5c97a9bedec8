// What a reconcile found, turned into the status coffre wants: the Ready, Empty and Expired conditions,
// Reconciling and Stalled (kstatus, from ../health.ts) and the status fields. Pure: the same outcome and record always give the same status, so a restarted
// operator computes an identical status and writes nothing.
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import {
  MAX_FORCE_REFRESH_VALUE_LENGTH,
  type VaultConnectionStatus,
} from '../../api/v1alpha1/vault-connection.ts';
import { formatTime, mergeConditions, type DesiredCondition } from '../conditions.ts';
import { healthConditions, progressConditions, type HealthCause } from '../health.ts';
import type { RetryState } from './gather.ts';
import { retryStatusFields } from './retry-record.ts';
import type { PublishedRecord } from './target-secret.ts';

export type Outcome =
  | { kind: 'invalid-spec'; message: string }
  | { kind: 'empty'; reason: Reason; message: string }
  /** Credentials exist (or cannot be told) but a human must act: the reason says what. */
  | { kind: 'blocked'; reason: Reason; message: string; credentials: 'present' | 'unknown' }
  /** `retiring`: the service retires these credentials; the message says when and what to use. */
  | { kind: 'static-published'; retiring?: string }
  | { kind: 'token-valid' }
  /**
   * `requestHash`: what the failed request was for. When the published token was obtained for the same
   * request (a renewal failed, not a new spec or credentials), it still serves until it expires.
   */
  | { kind: 'token-failed'; reason: Reason; message: string; requestHash?: string };

export interface StatusInput {
  generation: number;
  outcome: Outcome;
  /** What the target Secret currently holds (after any write this reconcile made). */
  record: PublishedRecord | undefined;
  secretName: string;
  /** Whether this connection publishes expiring tokens. */
  expiring: boolean;
  nextRefreshAt?: number;
  /** The retry state of a failing token request, recorded so that a restart keeps the backoff. */
  retry?: RetryState | undefined;
  /** The force-refresh value this reconcile acknowledges (see acknowledgedForceRefresh). */
  observedForceRefresh?: string | undefined;
  now: number;
}

function condition(
  type: string,
  status: DesiredCondition['status'],
  reason: Reason,
  message: string,
): DesiredCondition {
  return { type, status, reason, message };
}

function expiredCondition(
  input: StatusInput,
  failure?: { reason: Reason; message: string },
): DesiredCondition {
  const { record, now, expiring } = input;
  if (!expiring)
    return condition(
      ConditionType.Expired,
      'False',
      Reason.DoesNotExpire,
      'static credentials do not expire',
    );
  if (record?.expiresAt === undefined) {
    return condition(ConditionType.Expired, 'False', Reason.NoToken, 'no token has been published yet');
  }
  const until = formatTime(record.expiresAt);
  if (record.expiresAt > now) {
    return condition(
      ConditionType.Expired,
      'False',
      Reason.TokenValid,
      `the published token is valid until ${until}`,
    );
  }
  if (failure !== undefined) {
    return condition(
      ConditionType.Expired,
      'True',
      failure.reason,
      `the published token expired at ${until} and no new one could be obtained: ${failure.message}`,
    );
  }
  return condition(
    ConditionType.Expired,
    'True',
    Reason.TokenExpired,
    `the published token expired at ${until}`,
  );
}

/** Ready, Empty and Expired, then Reconciling and Stalled as the health table says for Ready's reason. */
export function desiredConditions(input: StatusInput): DesiredCondition[] {
  const [ready, ...rest] = readinessConditions(input);
  if (ready === undefined) return rest;
  const failure = input.outcome.kind === 'token-failed' ? input.outcome : undefined;
  return [ready, ...rest, ...healthConditions(ready, failure)];
}

/** Whether a failed request leaves the published token serving: a renewal of it failed, and it is unexpired. */
export function stillServing(outcome: Outcome, record: PublishedRecord | undefined, now: number): boolean {
  return (
    outcome.kind === 'token-failed' &&
    record !== undefined &&
    outcome.requestHash !== undefined &&
    record.requestHash === outcome.requestHash &&
    (record.expiresAt === undefined || record.expiresAt > now)
  );
}

function readinessConditions(input: StatusInput): DesiredCondition[] {
  const { outcome, record, secretName } = input;
  const present = condition(
    ConditionType.Empty,
    'False',
    Reason.CredentialsPresent,
    'all required credentials are present',
  );
  switch (outcome.kind) {
    case 'invalid-spec':
      return [
        condition(ConditionType.Ready, 'False', Reason.InvalidSpec, outcome.message),
        condition(
          ConditionType.Empty,
          'Unknown',
          Reason.InvalidSpec,
          'cannot tell while the spec is invalid',
        ),
        expiredCondition(input),
      ];
    case 'empty':
      return [
        condition(ConditionType.Ready, 'False', outcome.reason, outcome.message),
        condition(ConditionType.Empty, 'True', outcome.reason, outcome.message),
        expiredCondition(input),
      ];
    case 'blocked':
      return [
        condition(ConditionType.Ready, 'False', outcome.reason, outcome.message),
        outcome.credentials === 'present'
          ? present
          : condition(
              ConditionType.Empty,
              'Unknown',
              outcome.reason,
              'cannot tell until the problem is fixed',
            ),
        expiredCondition(input),
      ];
    case 'static-published':
      return [
        outcome.retiring === undefined
          ? condition(
              ConditionType.Ready,
              'True',
              Reason.CredentialsPublished,
              `credentials published to Secret ${secretName}`,
            )
          : condition(
              ConditionType.Ready,
              'True',
              Reason.CredentialsRetiring,
              `credentials published to Secret ${secretName}, but ${outcome.retiring}`,
            ),
        present,
        expiredCondition(input),
      ];
    case 'token-valid': {
      const message =
        record?.expiresAt === undefined
          ? `token published to Secret ${secretName} (the server reported no expiry)`
          : `token published to Secret ${secretName}, valid until ${formatTime(record.expiresAt)}`;
      return [
        condition(ConditionType.Ready, 'True', Reason.TokenValid, message),
        present,
        expiredCondition(input),
      ];
    }
    case 'token-failed':
      if (stillServing(outcome, record, input.now)) {
        const until =
          record?.expiresAt === undefined
            ? 'does not expire'
            : `is valid until ${formatTime(record.expiresAt)}`;
        return [
          condition(
            ConditionType.Ready,
            'True',
            Reason.RenewalFailing,
            `the token in Secret ${secretName} ${until}; renewing it failed (${outcome.reason}): ${outcome.message}`,
          ),
          present,
          expiredCondition(input),
        ];
      }
      return [
        condition(ConditionType.Ready, 'False', outcome.reason, outcome.message),
        present,
        expiredCondition(input, outcome),
      ];
  }
}

export function desiredStatus(
  current: VaultConnectionStatus | undefined,
  input: StatusInput,
): VaultConnectionStatus {
  const { record, expiring, nextRefreshAt, generation, now } = input;
  const status: VaultConnectionStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(current?.conditions, desiredConditions(input), generation, new Date(now)),
  };
  // Token fields describe the connection's current token: an empty, invalid or static connection shows
  // none, even while an old token lingers in its target Secret.
  const tokenOutcome = !['empty', 'invalid-spec', 'static-published'].includes(input.outcome.kind);
  if (record !== undefined) {
    status.secretName = input.secretName;
  }
  if (record !== undefined && tokenOutcome) {
    if (expiring && record.issuedAt !== undefined) status.lastRefreshTime = formatTime(record.issuedAt);
    if (expiring && record.expiresAt !== undefined) status.expiresAt = formatTime(record.expiresAt);
    if (record.grantedScopes !== undefined) status.grantedScopes = capList(record.grantedScopes);
  }
  if (nextRefreshAt !== undefined) status.nextRefreshTime = formatTime(nextRefreshAt);
  if (input.retry !== undefined && input.outcome.kind === 'token-failed')
    Object.assign(status, retryStatusFields(input.retry));
  if (input.observedForceRefresh !== undefined) status.observedForceRefresh = input.observedForceRefresh;
  return status;
}

/**
 * The status written before coffre starts work that takes time (first observation, a token request):
 * the current one with Reconciling=True for `cause`. No other field changes.
 */
export function progressStatus(
  current: VaultConnectionStatus | undefined,
  cause: HealthCause,
  generation: number,
  now: number,
): VaultConnectionStatus {
  return {
    ...current,
    observedGeneration: generation,
    conditions: progressConditions(current?.conditions, cause, generation, new Date(now)),
  };
}

/**
 * The force-refresh value status records as processed. A value is processed once the target Secret
 * records it as handled (published with it), or once this reconcile ended without publishing (a failed
 * request, an empty or blocked connection: Ready says why). Until then, and without the annotation, the
 * value recorded before stays: status is the only memory of a failure, and must not flip back.
 */
export function acknowledgedForceRefresh(input: {
  /** status.observedForceRefresh as it stands. */
  previous: string | undefined;
  /** The annotation's value now. */
  requested: string | undefined;
  /** The value the published record says it was written for. */
  handled: string | undefined;
  outcome: Outcome;
}): string | undefined {
  const { previous, requested, handled, outcome } = input;
  if (requested === undefined || requested === '' || requested.length > MAX_FORCE_REFRESH_VALUE_LENGTH)
    return previous;
  if (handled === requested) return requested;
  if (outcome.kind !== 'token-valid' && outcome.kind !== 'static-published') return requested;
  return previous;
}

/** At most this many entries of a list in status; a server may grant thousands of scopes. */
export const MAX_STATUS_LIST = 64;

/**
 * A list as status shows it: whole when short, else its first entries and a last one that says how many
 * were left out, so that a status patch never grows with what a token endpoint sends.
 */
export function capList(values: readonly string[], max = MAX_STATUS_LIST): string[] {
  if (values.length <= max) return [...values];
  return [...values.slice(0, max - 1), `(+${values.length - (max - 1)} more)`];
}
