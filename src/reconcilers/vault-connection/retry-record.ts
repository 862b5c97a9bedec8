// The retry state of a failing connection, recorded in status and read back from it: the number of
// consecutive failures, when the last one happened, the earliest next attempt and which request failed
// (after cert-manager's failedIssuanceAttempts and lastFailureTime). An operator that restarts, or a
// replica that takes over the lead, keeps backing off instead of starting again at the first step, and
// honours a Retry-After the previous process was told. Pure.
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import type { VaultConnectionStatus } from '../../api/v1alpha1/vault-connection.ts';
import { findCondition, formatTime } from '../conditions.ts';
import type { RetryState } from './gather.ts';

type RetryFields = Pick<
  VaultConnectionStatus,
  'failedAttempts' | 'lastFailureTime' | 'nextRetryTime' | 'failedRequest'
>;

/** The status fields for a retry state; nextRetryTime is rounded up, so it is never earlier than meant. */
export function retryStatusFields(retry: RetryState): RetryFields {
  return {
    failedAttempts: retry.failures,
    lastFailureTime: formatTime(retry.failedAt),
    ...(Number.isFinite(retry.notBefore)
      ? { nextRetryTime: formatTime(Math.ceil(retry.notBefore / 1000) * 1000) }
      : {}),
    failedRequest: retry.requestDigest,
  };
}

/**
 * The retry state a previous process recorded, or undefined when status holds none (or an incomplete
 * one). Why it failed is read from the Ready condition written with it.
 */
export function retryFromStatus(status: VaultConnectionStatus | undefined): RetryState | undefined {
  if (status?.failedAttempts === undefined || status.failedRequest === undefined) return undefined;
  const failedAt = Date.parse(status.lastFailureTime ?? '');
  if (Number.isNaN(failedAt)) return undefined;
  // A terminal error is tried once more by a new process: what changed may be the operator's own
  // configuration (an allowlisted range, a CA file), which no watch reports.
  const notBefore = status.nextRetryTime === undefined ? failedAt : Date.parse(status.nextRetryTime);
  if (Number.isNaN(notBefore)) return undefined;
  const ready = findCondition(status.conditions, ConditionType.Ready);
  const said = ready !== undefined && ready.status !== 'True';
  return {
    failures: status.failedAttempts,
    failedAt,
    notBefore,
    requestDigest: status.failedRequest,
    reason: said ? (ready.reason as Reason) : Reason.TokenRequestFailed,
    message: said ? ready.message : 'the last token request failed',
  };
}
