// Reporting, shared by both reconcilers: the desired status is patched only when it differs from the
// cached one (no write, and no hot loop, when nothing changed), and each condition transition that
// patch makes is announced once as an Event.
import type { Condition } from '../api/v1alpha1/conditions.ts';
import type { ResourcePath, KubePort } from '../kube/kube-port.ts';
import type { EventRecorder, EventTarget } from '../observability/events.ts';
import { transitions } from './conditions.ts';

export interface ReportedStatus {
  conditions?: Condition[];
}

export interface Reported<S extends ReportedStatus> {
  metadata: { namespace?: string; name?: string; uid?: string };
  status?: S;
}

export interface ReportKind {
  resource: ResourcePath;
  apiVersion: string;
  kind: string;
  /** Conditions that are news only when True (Empty, Expired): see transitions. */
  normallyFalse?: ReadonlySet<string>;
  /** Conditions never announced by an Event (Reconciling, Stalled: Ready carries the news). */
  unannounced?: ReadonlySet<string>;
  /** Conditions whose first appearance as True raises no Event (a connection's Ready): see transitions. */
  quietFirstTrue?: ReadonlySet<string>;
  /** Whether a condition in this state deserves a Warning Event rather than a Normal one. */
  isWarning(condition: Condition): boolean;
}

export interface ReportDeps {
  port: KubePort;
  events: EventRecorder;
}

export type ReportResult = { changed: false } | { changed: true; stored: unknown };

/** Deep equality of two statuses as JSON, with object keys in any order. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}

export function eventTarget(
  kind: Pick<ReportKind, 'apiVersion' | 'kind'>,
  object: Reported<ReportedStatus>,
): EventTarget {
  return {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
    uid: object.metadata.uid ?? '',
  };
}

/**
 * The merge patch that turns `current` into `desired`: top-level fields `desired` lacks are sent as
 * null, so that a field which no longer applies (an expiry after the connection became Empty) is
 * removed rather than left behind by the merge.
 */
export function statusPatch(desired: object, current: object | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...desired };
  for (const key of Object.keys(current ?? {})) if (!(key in desired)) patch[key] = null;
  return patch;
}

/** Patches `desired` over the object's status if it differs; no Event (progress notes, not news). */
export async function reportProgress<S extends ReportedStatus>(
  deps: Pick<ReportDeps, 'port'>,
  kind: Pick<ReportKind, 'resource'>,
  object: Reported<S>,
  desired: S,
  signal: AbortSignal,
): Promise<ReportResult> {
  if (sameStatus(desired, object.status)) return { changed: false };
  signal.throwIfAborted();
  const stored = await deps.port.patchStatus(
    kind.resource,
    object.metadata.namespace ?? '',
    object.metadata.name ?? '',
    statusPatch(desired, object.status),
  );
  return { changed: true, stored };
}

/** Patches `desired` over the object's status if it differs, then records an Event per transition. */
export async function reportStatus<S extends ReportedStatus>(
  deps: ReportDeps,
  kind: ReportKind,
  object: Reported<S>,
  desired: S,
  signal: AbortSignal,
): Promise<ReportResult> {
  const report = await reportProgress(deps, kind, object, desired, signal);
  if (!report.changed) return report;
  const target = eventTarget(kind, object);
  // A first Ready=True that is a warning (credentials being retired) is news all the same.
  const quiet = new Set(
    [...(kind.quietFirstTrue ?? [])].filter((type) => {
      const condition = desired.conditions?.find((c) => c.type === type);
      return condition === undefined || !kind.isWarning(condition);
    }),
  );
  for (const { condition } of transitions(
    object.status?.conditions,
    desired.conditions ?? [],
    kind.normallyFalse,
    quiet,
  )) {
    if (kind.unannounced?.has(condition.type) === true) continue;
    deps.events.record(
      target,
      kind.isWarning(condition) ? 'Warning' : 'Normal',
      condition.reason,
      `${condition.type}=${condition.status}: ${condition.message}`,
    );
  }
  return report;
}
