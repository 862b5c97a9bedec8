// The kstatus conditions, Reconciling and Stalled, derived from the Ready condition by the one table of
// src/api/v1alpha1/health.ts; and the status coffre writes at once when it starts working on a resource
// (first observation, a token request about to be sent). Pure, shared by both reconcilers.
import { ConditionType, Reason, type Condition } from '../api/v1alpha1/conditions.ts';
import { reasonHealth } from '../api/v1alpha1/health.ts';
import { mergeConditions, type DesiredCondition } from './conditions.ts';

/** What decided the health: the Ready condition, or — while Ready=True RenewalFailing — the failure. */
export interface HealthCause {
  reason: Reason;
  message: string;
}

const ORDER: readonly string[] = [
  ConditionType.Ready,
  ConditionType.Empty,
  ConditionType.Expired,
  ConditionType.Reconciling,
  ConditionType.Stalled,
];

/** Reconciling and Stalled for a resource whose Ready condition is `ready`. */
export function healthConditions(ready: DesiredCondition, failure?: HealthCause): DesiredCondition[] {
  const cause: HealthCause =
    failure !== undefined && ready.reason === Reason.RenewalFailing
      ? failure
      : { reason: ready.reason as Reason, message: ready.message };
  // A reason outside the catalogue (never written by coffre) is treated as a retried failure.
  const health = (reasonHealth as Record<string, (typeof reasonHealth)[Reason] | undefined>)[cause.reason];
  const reconciling = health === 'progressing' || health === 'transient' || health === undefined;
  const stalled = health === 'stalled';
  return [
    {
      type: ConditionType.Reconciling,
      status: reconciling ? 'True' : 'False',
      reason: cause.reason,
      message: reconciling ? cause.message : notReconcilingMessage(health),
    },
    {
      type: ConditionType.Stalled,
      status: stalled ? 'True' : 'False',
      reason: cause.reason,
      message: stalled ? cause.message : 'coffre can make progress without anyone',
    },
  ];
}

function notReconcilingMessage(health: (typeof reasonHealth)[Reason] | undefined): string {
  switch (health) {
    case 'empty':
      return 'nothing to do until the credentials are supplied; coffre watches for them';
    case 'stalled':
      return 'nothing is retried until the spec, a Secret or an OAuthClient changes';
    default:
      return 'the resource is what its spec asks';
  }
}

/** Conditions in the order coffre writes them; types it does not know keep their place after its own. */
export function ordered(conditions: Condition[]): Condition[] {
  const rank = (c: Condition) => {
    const index = ORDER.indexOf(c.type);
    return index === -1 ? ORDER.length : index;
  };
  return [...conditions].sort((a, b) => rank(a) - rank(b));
}

/** Whether coffre has never reported on this resource (no Ready condition yet). */
export function firstObservation(conditions: readonly Condition[] | undefined): boolean {
  return !(conditions ?? []).some((c) => c.type === ConditionType.Ready);
}

/** Whether the status already says coffre is working on the resource. */
export function reconciling(conditions: readonly Condition[] | undefined): boolean {
  return (conditions ?? []).some((c) => c.type === ConditionType.Reconciling && c.status === 'True');
}

/**
 * The conditions while coffre works: Reconciling=True with `cause`, Stalled=False, and — on first
 * observation — Ready=Unknown. Ready, Empty and Expired otherwise stay as they are (with the generation
 * they were computed for): a token being renewed is still valid.
 */
export function progressConditions(
  current: readonly Condition[] | undefined,
  cause: HealthCause,
  generation: number,
  now: Date,
): Condition[] {
  const desired: DesiredCondition[] = [
    { type: ConditionType.Reconciling, status: 'True', reason: cause.reason, message: cause.message },
    {
      type: ConditionType.Stalled,
      status: 'False',
      reason: cause.reason,
      message: 'coffre can make progress without anyone',
    },
  ];
  if (firstObservation(current)) {
    desired.push({
      type: ConditionType.Ready,
      status: 'Unknown',
      reason: Reason.Reconciling,
      message: cause.message,
    });
  }
  return ordered(mergeConditions(current, desired, generation, now));
}
