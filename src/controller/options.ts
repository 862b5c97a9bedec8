// Every default of the controller runtime, in one place, and the functions that apply them. Callers pass
// what they care about; everything else comes from `runtimeDefaults`, and the one clock, logger and random
// source given to the manager reach every informer, controller, queue and elector it builds.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../clock.ts';
import { CoffreError } from '../errors.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import {
  changedBeyondStatus,
  type ControllerObserver,
  type ControllerOptions,
  type EventSource,
} from './controller.ts';
import type { InformerObserver, InformerOptions, ResourceRef } from './informer.ts';
import type { KubeHttp } from './kube-http.ts';
import type { LeaderElectionOptions, LeaseClient } from './leader-election.ts';
import type { BackoffPolicy } from './rate-limiter.ts';
import { withoutManagedFields } from './transforms.ts';
import type { KubeObject, Reconciler } from './types.ts';

export const runtimeDefaults = {
  /** Deadline of an ordinary API request (lists pages, Lease reads and writes). */
  requestTimeoutMs: 30_000,
  /** User-Agent of the runtime's requests (and the API server's default field manager). */
  userAgent: 'coffre',
  informer: {
    /** Objects per list page. */
    pageSize: 500,
    listTimeoutMs: 60_000,
    /** Server-side watch timeout; each watch picks between this and twice this (client-go: 5–10 min). */
    watchTimeoutSeconds: 300,
    /** A watch silent for longer than this (and its server timeout + 30 s) is dead. */
    watchInactivityMs: 0,
    /** Reconnect backoff of a failing list or watch. */
    backoff: { baseMs: 800, maxMs: 30_000, jitter: 'full', maxRetryAfterMs: 60_000 } as BackoffPolicy,
  },
  controller: {
    /** Concurrent reconciles per controller. */
    workers: 4,
    /** Per-key retry backoff of a failing reconcile: 500 ms, 1 s, 2 s ... capped at 5 min. */
    backoff: { baseMs: 500, maxMs: 300_000, jitter: 'equal', maxRetryAfterMs: 3_600_000 } as BackoffPolicy,
    /** A reconcile's signal aborts after this long; below stuckWorkerMs so liveness is the last resort. */
    reconcileTimeoutMs: 60_000,
    /** After the shutdown deadline aborted in-flight reconciles, how long they get to settle. */
    abortGraceMs: 2_000,
  },
  leaderElection: {
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    releaseTimeoutMs: 5_000,
    /** Watch the Lease so a standby takes over the moment it is released (needs list/watch on leases). */
    watchLease: true,
  },
  /** On stop, how long in-flight reconciles may take before they are aborted. */
  shutdownGraceMs: 20_000,
  /** Liveness fails when one reconcile has run longer than this. */
  stuckWorkerMs: 120_000,
} as const;

/** Unique per process: the host (pod) name and a random suffix, as controller-runtime does. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export interface LeaderElectionInput {
  namespace: string;
  leaseName: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  releaseTimeoutMs?: number;
  watchLease?: boolean;
  /** Replaces the HTTP Lease client (tests). */
  client?: LeaseClient;
}

export interface ManagerInput {
  clock?: Clock;
  logger?: Logger;
  /** Random source in [0, 1) for jitter. */
  random?: () => number;
  requestTimeoutMs?: number;
  /** Absent or false: this replica always acts (one replica, or tests). */
  leaderElection?: LeaderElectionInput | false;
  shutdownGraceMs?: number;
  stuckWorkerMs?: number;
  /** Leadership was lost: the process should exit and restart clean (the operator exits here). */
  onLeadershipLost?: () => void;
  observer?: {
    informer?: InformerObserver;
    controller?: ControllerObserver;
    /** This replica started (true) or stopped (false) leading. */
    leading?(leading: boolean): void;
  };
}

export interface ResolvedLeaderElection extends LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  watchLease: boolean;
  client?: LeaseClient;
}

export interface ResolvedManagerOptions {
  clock: Clock;
  logger: Logger;
  random: () => number;
  requestTimeoutMs: number;
  leaderElection: ResolvedLeaderElection | undefined;
  shutdownGraceMs: number;
  stuckWorkerMs: number;
  onLeadershipLost: () => void;
  observer: NonNullable<ManagerInput['observer']>;
}

export function resolveManagerOptions(input: ManagerInput = {}): ResolvedManagerOptions {
  const clock = input.clock ?? systemClock;
  const logger = input.logger ?? silentLogger();
  const random = input.random ?? Math.random;
  const resolved: ResolvedManagerOptions = {
    clock,
    logger,
    random,
    requestTimeoutMs: positive(
      'requestTimeoutMs',
      input.requestTimeoutMs ?? runtimeDefaults.requestTimeoutMs,
    ),
    leaderElection: undefined,
    shutdownGraceMs: nonNegative('shutdownGraceMs', input.shutdownGraceMs ?? runtimeDefaults.shutdownGraceMs),
    stuckWorkerMs: positive('stuckWorkerMs', input.stuckWorkerMs ?? runtimeDefaults.stuckWorkerMs),
    onLeadershipLost: input.onLeadershipLost ?? (() => undefined),
    observer: input.observer ?? {},
  };
  const election = input.leaderElection;
  if (election !== undefined && election !== false) {
    const defaults = runtimeDefaults.leaderElection;
    const leaseDurationMs = positive('leaseDurationMs', election.leaseDurationMs ?? defaults.leaseDurationMs);
    const renewDeadlineMs = positive('renewDeadlineMs', election.renewDeadlineMs ?? defaults.renewDeadlineMs);
    const retryPeriodMs = positive('retryPeriodMs', election.retryPeriodMs ?? defaults.retryPeriodMs);
    // client-go's invariants: the leader gives up before anyone may take over, and retries (with 1.2
    // jitter) fit within the renew deadline.
    if (!(leaseDurationMs > renewDeadlineMs)) invalid('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(renewDeadlineMs > retryPeriodMs * 1.2))
      invalid('renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    if (election.namespace === '' || election.leaseName === '')
      invalid('leader election needs a namespace and a lease name');
    resolved.leaderElection = {
      namespace: election.namespace,
      leaseName: election.leaseName,
      identity:
        election.identity === undefined || election.identity === '' ? defaultIdentity() : election.identity,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      releaseTimeoutMs: positive('releaseTimeoutMs', election.releaseTimeoutMs ?? defaults.releaseTimeoutMs),
      watchLease: election.watchLease ?? defaults.watchLease,
      clock,
      logger,
      random,
      ...(election.client === undefined ? {} : { client: election.client }),
    };
  }
  return resolved;
}

/** What a caller says about an informer; everything else is defaulted. */
export interface InformerSpec<T extends KubeObject> {
  name: string;
  resource: ResourceRef;
  /** Namespaces to watch; empty or absent: all namespaces (or a cluster-scoped resource). */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  metadataOnly?: boolean;
  transform?: (object: T) => T;
  pageSize?: number;
  listTimeoutMs?: number;
  watchTimeoutSeconds?: number;
  watchInactivityMs?: number;
  backoff?: Partial<BackoffPolicy>;
}

export interface InformerContext {
  http: KubeHttp;
  clock: Clock;
  logger: Logger;
  random: () => number;
  observer?: InformerObserver;
}

export function resolveInformerOptions<T extends KubeObject>(
  spec: InformerSpec<T>,
  context: InformerContext,
): InformerOptions<T> {
  const defaults = runtimeDefaults.informer;
  return {
    name: spec.name,
    http: context.http,
    resource: spec.resource,
    namespaces: spec.namespaces ?? [],
    ...(spec.labelSelector === undefined ? {} : { labelSelector: spec.labelSelector }),
    ...(spec.fieldSelector === undefined ? {} : { fieldSelector: spec.fieldSelector }),
    metadataOnly: spec.metadataOnly ?? false,
    transform: spec.transform ?? withoutManagedFields,
    pageSize: positive('pageSize', spec.pageSize ?? defaults.pageSize),
    listTimeoutMs: positive('listTimeoutMs', spec.listTimeoutMs ?? defaults.listTimeoutMs),
    watchTimeoutSeconds: positive(
      'watchTimeoutSeconds',
      spec.watchTimeoutSeconds ?? defaults.watchTimeoutSeconds,
    ),
    watchInactivityMs: nonNegative('watchInactivityMs', spec.watchInactivityMs ?? defaults.watchInactivityMs),
    backoff: backoffPolicy({ ...defaults.backoff, ...spec.backoff }),
    random: context.random,
    clock: context.clock,
    logger: context.logger,
    ...(context.observer === undefined ? {} : { observer: context.observer }),
  };
}

/** What a caller says about a controller; everything else is defaulted. */
export interface ControllerSpec<T extends KubeObject> {
  name: string;
  informer: EventSource<T>;
  reconciler: Reconciler;
  workers?: number;
  backoff?: Partial<BackoffPolicy>;
  reconcileTimeoutMs?: number;
  abortGraceMs?: number;
  shouldReconcileUpdate?: (old: T, object: T) => boolean;
}

export interface ControllerContext {
  clock: Clock;
  logger: Logger;
  random: () => number;
  observer?: ControllerObserver;
}

export function resolveControllerOptions<T extends KubeObject>(
  spec: ControllerSpec<T>,
  context: ControllerContext,
): ControllerOptions<T> {
  const defaults = runtimeDefaults.controller;
  const workers = spec.workers ?? defaults.workers;
  if (!Number.isInteger(workers) || workers < 1)
    invalid(`workers must be a positive integer, got ${workers}`);
  return {
    name: spec.name,
    informer: spec.informer,
    reconciler: spec.reconciler,
    workers,
    backoff: backoffPolicy({ ...defaults.backoff, ...spec.backoff }),
    reconcileTimeoutMs: nonNegative(
      'reconcileTimeoutMs',
      spec.reconcileTimeoutMs ?? defaults.reconcileTimeoutMs,
    ),
    abortGraceMs: nonNegative('abortGraceMs', spec.abortGraceMs ?? defaults.abortGraceMs),
    shouldReconcileUpdate: spec.shouldReconcileUpdate ?? changedBeyondStatus,
    random: context.random,
    clock: context.clock,
    logger: context.logger,
    ...(context.observer === undefined ? {} : { observer: context.observer }),
  };
}

function backoffPolicy(policy: BackoffPolicy): BackoffPolicy {
  positive('backoff.baseMs', policy.baseMs);
  positive('backoff.maxMs', policy.maxMs);
  if (policy.maxMs < policy.baseMs) invalid('backoff.maxMs must not be below backoff.baseMs');
  nonNegative('backoff.maxRetryAfterMs', policy.maxRetryAfterMs);
  return policy;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) invalid(`${name} must be a positive number, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) invalid(`${name} must be zero or more, got ${value}`);
  return value;
}

function invalid(message: string): never {
  throw new CoffreError('invalid_runtime_options', message, { retryable: false });
}
