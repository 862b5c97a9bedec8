// metav1.Condition bookkeeping: lastTransitionTime moves only when status flips, observedGeneration
// is stamped, and equality ignores nothing else so an unchanged condition never causes a write.
import type { Condition } from '../api/v1alpha1/conditions.ts';

export interface DesiredCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Merges desired conditions into the current list; the order of `desired` wins, unknown types are kept last. */
export function mergeConditions(
  current: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  observedGeneration: number,
  now: Date,
): Condition[] {
  const byType = new Map((current ?? []).map((c) => [c.type, c]));
  const merged: Condition[] = desired.map((want) => {
    const existing = byType.get(want.type);
    const lastTransitionTime =
      existing !== undefined && existing.status === want.status
        ? existing.lastTransitionTime
        : formatTime(now);
    return {
      type: want.type,
      status: want.status,
      observedGeneration,
      lastTransitionTime,
      reason: want.reason,
      message: truncate(want.message, 1024),
    };
  });
  const desiredTypes = new Set(desired.map((d) => d.type));
  for (const condition of current ?? []) if (!desiredTypes.has(condition.type)) merged.push(condition);
  return merged;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function formatTime(date: Date | number): string {
  return new Date(Math.floor(new Date(date).getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The transitions worth an Event: a condition whose status or reason changed. Conditions in
 * `normallyFalse` (Empty, Expired: news when True) stay quiet while they are in their normal state —
 * their first appearance as False and a new reason while False are details of the status, not news;
 * without this, every new connection would raise three Events where one (Ready) says it all.
 * Conditions in `quietFirstTrue` (a connection's Ready) raise none when they first become True (from
 * nothing, or from the Unknown of a progress note while a first token was slow): a new
 * connection that works at once is told by its status (Ready=True, its lastTransitionTime), and an
 * Event for it would be a third write per connection; its first problem, and every later change, is an
 * Event.
 */
export function transitions(
  before: readonly Condition[] | undefined,
  after: readonly Condition[],
  normallyFalse: ReadonlySet<string> = new Set(),
  quietFirstTrue: ReadonlySet<string> = new Set(),
): { condition: Condition; previous: Condition | undefined }[] {
  return after
    .map((condition) => ({ condition, previous: findCondition(before, condition.type) }))
    .filter(({ condition, previous }) => {
      const quiet = normallyFalse.has(condition.type) && condition.status === 'False';
      // First True: nothing before, or only the Unknown of a progress note (a slow first token).
      const firstTrue =
        quietFirstTrue.has(condition.type) &&
        condition.status === 'True' &&
        (previous === undefined || previous.status === 'Unknown');
      if (firstTrue) return false;
      if (previous === undefined) return !quiet;
      if (previous.status !== condition.status) return true;
      return previous.reason !== condition.reason && !quiet;
    });
}
