// The functions that apply the runtime's defaults (src/defaults.ts) and check its rules. Callers pass
// what they care about; everything else is defaulted, and the one clock, logger and random source given
// to the manager reach every informer, controller, queue and elector it builds. The rules are written
// once and name options through an OptionName, so config.ts reports the same rule in flag names.
import { systemClock, type Clock } from '../clock.ts';
import { defaultIdentity, defaults } from '../defaults.ts';
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
import { compact } from './transforms.ts';
import type { KubeObject, Reconciler } from './types.ts';

export const INVALID_RUNTIME_OPTIONS = 'invalid_runtime_options';

/** How a rule spells an option and its value in a message: property names here, flags in config.ts. */
export type OptionName = (field: string, value: unknown) => string;

const asProperty: OptionName = (field, value) => `${field} (${String(value)})`;

/** Collects the broken rules of one set of options. */
export class OptionChecks {
  readonly problems: string[];
  readonly name: OptionName;

  constructor(name: OptionName = asProperty, problems: string[] = []) {
    this.name = name;
    this.problems = problems;
  }

  /** The same checks, for the options under `prefix` (e.g. leaderElection.*), into the same list. */
  within(prefix: string): OptionChecks {
    return new OptionChecks((field, value) => this.name(`${prefix}.${field}`, value), this.problems);
  }

  positive(field: string, value: number): number {
    if (!(Number.isFinite(value) && value > 0))
      this.problems.push(`${this.name(field, value)} must be more than zero`);
    return value;
  }

  nonNegative(field: string, value: number): number {
    if (!(Number.isFinite(value) && value >= 0))
      this.problems.push(`${this.name(field, value)} must be zero or more`);
    return value;
  }

  integerIn(field: string, value: number, min: number, max: number): number {
    if (!(Number.isInteger(value) && value >= min && value <= max))
      this.problems.push(`${this.name(field, value)} must be an integer from ${min} to ${max}`);
    return value;
  }

  require(ok: boolean, problem: (name: OptionName) => string): void {
    if (!ok) this.problems.push(problem(this.name));
  }

  /** Throws the runtime's error when a rule is broken. */
  throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new CoffreError(INVALID_RUNTIME_OPTIONS, this.problems.join('; '), { retryable: false });
    }
  }
}

/** The timings and names leader election needs, checked the same way for flags and for callers. */
export interface LeaderElectionRules {
  namespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export function checkLeaderElection(check: OptionChecks, election: LeaderElectionRules): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = election;
  check.positive('leaseDurationMs', leaseDurationMs);
  check.positive('renewDeadlineMs', renewDeadlineMs);
  check.positive('retryPeriodMs', retryPeriodMs);
  // client-go's invariants: the leader gives up before anyone may take over, and retries (with 1.2
  // jitter) fit within the renew deadline.
  check.require(
    leaseDurationMs > renewDeadlineMs,
    (name) =>
      `${name('leaseDurationMs', leaseDurationMs)} must be greater than ${name('renewDeadlineMs', renewDeadlineMs)}`,
  );
  check.require(
    renewDeadlineMs > retryPeriodMs * 1.2,
    (name) =>
      `${name('renewDeadlineMs', renewDeadlineMs)} must be greater than 1.2 × ${name('retryPeriodMs', retryPeriodMs)}`,
  );
  check.require(
    election.namespace !== '' && election.leaseName !== '',
    (name) =>
      `leader election needs a namespace and a lease name (${name('namespace', election.namespace)}, ${name('leaseName', election.leaseName)})`,
  );
}

/** The same bounds for --workers and for a controller's `workers`. */
export function checkWorkers(check: OptionChecks, workers: number): void {
  check.integerIn('workers', workers, 1, 256);
}

export function checkShutdown(
  check: OptionChecks,
  options: { shutdownGraceMs: number; stuckWorkerMs: number },
): void {
  check.nonNegative('shutdownGraceMs', options.shutdownGraceMs);
  check.positive('stuckWorkerMs', options.stuckWorkerMs);
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
  /** While the Lease's namespace is missing, how often the error line is repeated. */
  problemLogIntervalMs?: number;
  /** What a person should do when the Lease's namespace does not exist (the operator names its flags). */
  missingNamespaceFix?: string;
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
  const check = new OptionChecks();
  const resolved: ResolvedManagerOptions = {
    clock,
    logger,
    random,
    requestTimeoutMs: check.positive(
      'requestTimeoutMs',
      input.requestTimeoutMs ?? defaults.kube.requestTimeoutMs,
    ),
    leaderElection: undefined,
    shutdownGraceMs: input.shutdownGraceMs ?? defaults.shutdownGraceMs,
    stuckWorkerMs: input.stuckWorkerMs ?? defaults.stuckWorkerMs,
    onLeadershipLost: input.onLeadershipLost ?? (() => undefined),
    observer: input.observer ?? {},
  };
  checkShutdown(check, resolved);
  const election = input.leaderElection;
  if (election !== undefined && election !== false) {
    const fallback = defaults.leaderElection;
    const timings = {
      namespace: election.namespace,
      leaseName: election.leaseName,
      leaseDurationMs: election.leaseDurationMs ?? fallback.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs ?? fallback.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs ?? fallback.retryPeriodMs,
    };
    checkLeaderElection(check, timings);
    resolved.leaderElection = {
      ...timings,
      identity:
        election.identity === undefined || election.identity === '' ? defaultIdentity() : election.identity,
      releaseTimeoutMs: check.positive(
        'releaseTimeoutMs',
        election.releaseTimeoutMs ?? fallback.releaseTimeoutMs,
      ),
      watchLease: election.watchLease ?? fallback.watchLease,
      problemLogIntervalMs: check.positive(
        'problemLogIntervalMs',
        election.problemLogIntervalMs ?? fallback.problemLogIntervalMs,
      ),
      missingNamespaceFix: election.missingNamespaceFix ?? genericMissingNamespaceFix(election.namespace),
      clock,
      logger,
      random,
      ...(election.client === undefined ? {} : { client: election.client }),
    };
  }
  check.throwIfAny();
  return resolved;
}

/** Without the operator's flags at hand: what anyone can do about a missing Lease namespace. */
function genericMissingNamespaceFix(namespace: string): string {
  return `create it (kubectl create namespace ${namespace}) or elect in a namespace that exists`;
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
  const fallback = defaults.informer;
  const check = new OptionChecks();
  const options: InformerOptions<T> = {
    name: spec.name,
    http: context.http,
    resource: spec.resource,
    namespaces: spec.namespaces ?? [],
    ...(spec.labelSelector === undefined ? {} : { labelSelector: spec.labelSelector }),
    ...(spec.fieldSelector === undefined ? {} : { fieldSelector: spec.fieldSelector }),
    metadataOnly: spec.metadataOnly ?? false,
    transform: spec.transform ?? compact,
    pageSize: check.positive('pageSize', spec.pageSize ?? fallback.pageSize),
    listTimeoutMs: check.positive('listTimeoutMs', spec.listTimeoutMs ?? fallback.listTimeoutMs),
    watchTimeoutSeconds: check.positive(
      'watchTimeoutSeconds',
      spec.watchTimeoutSeconds ?? fallback.watchTimeoutSeconds,
    ),
    watchInactivityMs: check.nonNegative(
      'watchInactivityMs',
      spec.watchInactivityMs ?? fallback.watchInactivityMs,
    ),
    backoff: checkBackoff(check.within('backoff'), { ...fallback.backoff, ...spec.backoff }),
    random: context.random,
    clock: context.clock,
    logger: context.logger,
    ...(context.observer === undefined ? {} : { observer: context.observer }),
  };
  check.throwIfAny();
  return options;
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
  const fallback = defaults.controller;
  const check = new OptionChecks();
  const workers = spec.workers ?? fallback.workers;
  checkWorkers(check, workers);
  const options: ControllerOptions<T> = {
    name: spec.name,
    informer: spec.informer,
    reconciler: spec.reconciler,
    workers,
    backoff: checkBackoff(check.within('backoff'), { ...fallback.backoff, ...spec.backoff }),
    reconcileTimeoutMs: check.nonNegative(
      'reconcileTimeoutMs',
      spec.reconcileTimeoutMs ?? fallback.reconcileTimeoutMs,
    ),
    abortGraceMs: check.nonNegative('abortGraceMs', spec.abortGraceMs ?? fallback.abortGraceMs),
    shouldReconcileUpdate: spec.shouldReconcileUpdate ?? changedBeyondStatus,
    random: context.random,
    clock: context.clock,
    logger: context.logger,
    ...(context.observer === undefined ? {} : { observer: context.observer }),
  };
  check.throwIfAny();
  return options;
}

function checkBackoff(check: OptionChecks, policy: BackoffPolicy): BackoffPolicy {
  check.positive('baseMs', policy.baseMs);
  check.positive('maxMs', policy.maxMs);
  check.require(
    policy.maxMs >= policy.baseMs,
    (name) => `${name('maxMs', policy.maxMs)} must not be below ${name('baseMs', policy.baseMs)}`,
  );
  check.nonNegative('maxRetryAfterMs', policy.maxRetryAfterMs);
  return policy;
}
