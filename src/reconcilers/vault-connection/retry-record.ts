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
  // Why it failed: Ready's reason, or — while the published token is still valid (Ready=True,
  // RenewalFailing) — the reason of Stalled or Reconciling.
  const said = [ConditionType.Ready, ConditionType.Stalled, ConditionType.Reconciling]
    .map((type) => findCondition(status.conditions, type))
    .find(
      (c) => c !== undefined && (c.type === ConditionType.Ready ? c.status !== 'True' : c.status === 'True'),
    );
  const reason = said === undefined ? Reason.TokenRequestFailed : (said.reason as Reason);
  // A terminal error is tried once more by a new process: what changed may be the operator's own
  // configuration (an allowlisted range, a CA file), which no watch reports. Not a refused refresh
  // token: the server has revoked it, no configuration brings it back, and sending it again after
  // every failover only repeats an invalid_grant (docs/reliability.md, finding 5). It waits for a
  // change of the request (a new refresh token in the credentials Secret).
  const notBefore =
    status.nextRetryTime !== undefined
      ? Date.parse(status.nextRetryTime)
      : reason === Reason.ReauthorizationRequired
        ? Number.POSITIVE_INFINITY
        : failedAt;
  if (Number.isNaN(notBefore)) return undefined;
  return {
    failures: status.failedAttempts,
    failedAt,
    notBefore,
    requestDigest: status.failedRequest,
    reason,
    message: said === undefined ? 'the last token request failed' : said.message,
  };
}
