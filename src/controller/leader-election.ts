// Leader election on a coordination.k8s.io/v1 Lease, after client-go's tools/leaderelection:
// - a candidate takes the Lease when it is free (no holder: released) or expired, judged by how long
//   *this* process has seen the record unchanged, so clocks need not agree;
// - every write carries the resourceVersion it read: a 409 Conflict means another candidate won the race;
// - the leader renews every retryPeriod; when it has not renewed for renewDeadline it stops leading at
//   once — a timer fires even while a renewal request hangs — before any standby can take over
//   (leaseDuration > renewDeadline, counted from when the renewal was sent);
// - after losing, it does not campaign again: the process should exit and start clean;
// - stop() releases the Lease (no holder, leaseDurationSeconds 1, as client-go's ReleaseOnCancel) so a
//   standby takes over at once instead of waiting for expiry;
// - a Lease namespace that does not exist is not a passing fault: the elector says so in one error line
//   with the fix (repeated every problemLogInterval, not every retry) and reports it as `problem` (the
//   manager is then not ready). It keeps trying: the namespace may be created later (a Helm install
//   with --create-namespace racing a local run, a GitOps sync), and then it leads without a restart.
import type { Clock } from '../clock.ts';
import { CoffreError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { isKubeApiError, type KubeApiError, type KubeHttp } from './kube-http.ts';

/** A coordination.k8s.io/v1 Lease as the API server serialises it (times are MicroTime strings). */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The calls leader election needs on one Lease. Writes use optimistic concurrency (resourceVersion). */
export interface LeaseClient {
  /** undefined when the Lease does not exist. */
  get(signal: AbortSignal): Promise<Lease | undefined>;
  /** Throws KubeApiError 409 when it already exists. */
  create(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** Throws KubeApiError 409 when the resourceVersion is stale (someone else wrote). */
  update(lease: Lease, signal: AbortSignal): Promise<Lease>;
}

export function leaseClient(http: KubeHttp, namespace: string, name: string): LeaseClient {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  const body = (lease: Lease) =>
    JSON.stringify({
      ...lease,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...lease.metadata, name, namespace },
    });
  return {
    async get(signal) {
      try {
        return await http.json<Lease>(item, { signal });
      } catch (error) {
        if (isKubeApiError(error, 404)) return undefined;
        throw error;
      }
    },
    create: (lease, signal) =>
      http.json<Lease>(collection, {
        method: 'POST',
        body: body(lease),
        contentType: 'application/json',
        signal,
      }),
    update: (lease, signal) =>
      http.json<Lease>(item, { method: 'PUT', body: body(lease), contentType: 'application/json', signal }),
  };
}

/** A MicroTime: RFC 3339 with exactly six fractional digits, which the API server requires. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaderElectionOptions {
  /** Unique per process: host name and a random suffix by default. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Deadline of the release request at stop(). */
  releaseTimeoutMs: number;
  /** While the Lease's namespace is missing, how often the error line is repeated. */
  problemLogIntervalMs: number;
  /** What a person should do when the Lease's namespace does not exist; ends the error line. */
  missingNamespaceFix: string;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

export type LeadershipEnd = 'lost' | 'released';

export interface LeadershipCallbacks {
  /** Became leader; `signal` aborts the moment leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Leadership ended: lost (renewal failed past the deadline, or taken) or released at stop(). */
  onStoppedLeading(end: LeadershipEnd): void;
  /** Another (or this) identity was seen holding the Lease. */
  onNewLeader?(identity: string): void;
}

/** How run() ended: stopped before leading, released at stop(), or lost. */
export type ElectionResult = 'stopped' | LeadershipEnd;

/** The Lease's namespace does not exist: no candidate can ever create the Lease there. */
export const LEASE_NAMESPACE_MISSING = 'lease_namespace_missing';

/** The API server's answer to creating an object in a namespace that does not exist. */
function isNamespaceMissing(error: unknown): boolean {
  return isKubeApiError(error, 404) && error.details.kind === 'namespaces';
}

class LeadershipLost extends CoffreError {
  constructor(message: string) {
    super('leadership_lost', message, { retryable: false });
  }
}

export class LeaderElector {
  readonly #client: LeaseClient;
  readonly #options: LeaderElectionOptions;
  readonly #stop = new AbortController();
  #observedRecord = '';
  #observedAt = 0;
  #observedDurationMs = 0;
  /** The last Lease read or written, for the next write's resourceVersion. */
  #lease: Lease | undefined;
  #leading: AbortController | undefined;
  #leader = '';
  #wake: (() => void) | undefined;
  #running: Promise<ElectionResult> | undefined;
  #problem: CoffreError | undefined;
  #problemLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(client: LeaseClient, options: LeaderElectionOptions) {
    this.#client = client;
    this.#options = options;
  }

  get identity(): string {
    return this.#options.identity;
  }

  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder this process last saw ('' when none). */
  get leader(): string {
    return this.#leader;
  }

  /** Why this replica cannot lead however long it waits (not merely: another holds the Lease). */
  get problem(): CoffreError | undefined {
    return this.#problem;
  }

  /** Campaigns, leads, and resolves once leadership ends or stop() is called before leading. */
  run(callbacks: LeadershipCallbacks): Promise<ElectionResult> {
    this.#running ??= this.#run(callbacks);
    return this.#running;
  }

  /** Tries now instead of at the next retry period (e.g. the Lease was deleted). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Takes in a Lease seen elsewhere (a watch on it): a standby then times the holder's expiry from the
   * moment the renewal happened, not from its own next poll, and tries at once when it was released.
   */
  observe(lease: Lease): void {
    if (this.#leading !== undefined) return;
    this.#observeRecord(lease, this.#options.clock.now());
    if ((lease.spec?.holderIdentity ?? '') === '') this.#wake?.();
  }

  /** Stops campaigning; if leading, releases the Lease. Resolves once done. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#running;
  }

  async #run(callbacks: LeadershipCallbacks): Promise<ElectionResult> {
    const { logger, identity } = this.#options;
    const acquiredAt = await this.#acquire(callbacks);
    if (acquiredAt === undefined) return 'stopped';
    if (this.#isStopped()) {
      // Won just as stop() came: hand the Lease straight back instead of leading for an instant.
      await this.#release();
      return 'stopped';
    }
    const leading = new AbortController();
    this.#leading = leading;
    logger.info({ identity }, 'leader election: became leader');
    callbacks.onStartedLeading(leading.signal);
    if (await this.#lead(callbacks, leading, acquiredAt)) return 'lost';
    this.#leading = undefined;
    leading.abort(new CoffreError('leadership_released', 'leadership released', { retryable: false }));
    await this.#release();
    callbacks.onStoppedLeading('released');
    return 'released';
  }

  /**
   * Tries every retry period (jittered) until it holds the Lease or is stopped. Returns when the winning
   * request was sent (the lease runs from then), or undefined when stopped.
   */
  async #acquire(callbacks: LeadershipCallbacks): Promise<number | undefined> {
    const { clock, retryPeriodMs, renewDeadlineMs, random, logger } = this.#options;
    while (!this.#stop.signal.aborted) {
      const sent = clock.now();
      const attempt = this.#deadlineSignal(renewDeadlineMs);
      try {
        const acquired = await this.#tryAcquireOrRenew(sent, attempt.signal);
        this.#clearProblem();
        if (acquired) return sent;
      } catch (error) {
        if (isNamespaceMissing(error)) this.#reportMissingNamespace(error as KubeApiError);
        else if (!this.#isStopped()) {
          logger.warn({ err: describe(error) }, 'leader election: could not read or take the lease');
        }
      } finally {
        attempt.cancel();
      }
      this.#reportLeader(callbacks);
      // Jitter (client-go's 1.2 factor) keeps candidates from moving in lockstep; but never sleep past
      // the moment the holder's lease expires.
      const retry = retryPeriodMs * (1 + 0.2 * random());
      const expiry = this.#untilExpiry();
      await this.#pause(expiry > 0 ? Math.min(retry, expiry) : retry);
    }
    return undefined;
  }

  /**
   * Renews every retry period until stopped (returns false) or lost (returns true, after ending
   * leadership: the signal aborted and onStoppedLeading('lost') called the moment the deadline passed).
   */
  async #lead(
    callbacks: LeadershipCallbacks,
    leading: AbortController,
    acquiredAt: number,
  ): Promise<boolean> {
    const { clock, retryPeriodMs, renewDeadlineMs, logger, identity } = this.#options;
    let lost = false;
    // Read through a function: loseNow() runs from a timer, behind the type checker's back.
    const isLost = () => lost;
    let request: AbortController | undefined;
    const loseNow = (message: string) => {
      if (lost) return;
      lost = true;
      const reason = new LeadershipLost(message);
      this.#leading = undefined;
      request?.abort(reason);
      logger.error({ identity, reason: message }, 'leader election: leadership lost; stopping work');
      leading.abort(reason);
      callbacks.onStoppedLeading('lost');
      this.#wake?.();
    };
    const armDeadline = (sent: number) =>
      clock.setTimer(sent + renewDeadlineMs - clock.now(), () => {
        loseNow(`the lease was not renewed within ${renewDeadlineMs} ms`);
      });
    let deadline = armDeadline(acquiredAt);
    try {
      while (!this.#isStopped() && !isLost()) {
        await this.#pause(retryPeriodMs);
        if (this.#isStopped() || isLost()) break;
        const sent = clock.now();
        request = new AbortController();
        try {
          const renewed = await this.#tryAcquireOrRenew(sent, request.signal);
          if (isLost()) break;
          if (renewed) {
            deadline.cancel();
            deadline = armDeadline(sent);
          } else if (this.#leader !== identity) {
            // Someone else holds it: we were cut off for longer than the lease duration.
            loseNow(`the lease is held by ${this.#leader}`);
          }
        } catch (error) {
          if (!isLost()) logger.warn({ err: describe(error) }, 'leader election: renewal failed; retrying');
        } finally {
          request = undefined;
        }
        this.#reportLeader(callbacks);
      }
    } finally {
      deadline.cancel();
    }
    return lost;
  }

  async #tryAcquireOrRenew(now: number, signal: AbortSignal): Promise<boolean> {
    const { identity, leaseDurationMs } = this.#options;
    const leaseDurationSeconds = Math.max(1, Math.round(leaseDurationMs / 1000));
    // Fast path while leading: write over the Lease we last wrote; a conflict falls back to a read.
    if (this.#leading !== undefined && this.#lease?.spec?.holderIdentity === identity) {
      try {
        this.#observe(await this.#client.update(this.#renewed(this.#lease, now), signal), now);
        return true;
      } catch (error) {
        if (!isKubeApiError(error, 409)) throw error;
      }
    }
    const current = await this.#client.get(signal);
    if (current === undefined) {
      try {
        const created = await this.#client.create(
          {
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          signal,
        );
        this.#observe(created, now);
        return true;
      } catch (error) {
        if (isKubeApiError(error, 409)) return false;
        throw error;
      }
    }
    this.#observe(current, now);
    const holder = current.spec?.holderIdentity ?? '';
    const durationMs = (current.spec?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.#observedAt + durationMs > now) return false;
    try {
      this.#observe(await this.#client.update(this.#renewed(current, now), signal), now);
      return true;
    } catch (error) {
      if (isKubeApiError(error, 409)) return false;
      throw error;
    }
  }

  #renewed(lease: Lease, now: number): Lease {
    const { identity, leaseDurationMs } = this.#options;
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    return {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: Math.max(1, Math.round(leaseDurationMs / 1000)),
        acquireTime: holder === identity ? (spec.acquireTime ?? microTime(now)) : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
  }

  /** Gives the Lease up so that a standby takes over at once. Best effort, bounded. */
  async #release(): Promise<void> {
    const { identity, releaseTimeoutMs, clock, logger } = this.#options;
    const attempt = this.#deadlineSignal(releaseTimeoutMs, false);
    try {
      let lease = this.#lease;
      for (let tries = 0; tries < 2 && lease?.spec?.holderIdentity === identity; tries++) {
        try {
          const now = clock.now();
          await this.#client.update(
            {
              ...lease,
              spec: {
                ...lease.spec,
                holderIdentity: '',
                leaseDurationSeconds: 1,
                acquireTime: microTime(now),
                renewTime: microTime(now),
              },
            },
            attempt.signal,
          );
          logger.info({ identity }, 'leader election: lease released');
          return;
        } catch (error) {
          if (!isKubeApiError(error, 409)) throw error;
          lease = await this.#client.get(attempt.signal);
        }
      }
    } catch (error) {
      logger.warn({ err: describe(error) }, 'leader election: could not release the lease');
    } finally {
      attempt.cancel();
    }
  }

  /** Records a Lease this process read or wrote (the next write's resourceVersion comes from it). */
  #observe(lease: Lease, now: number): void {
    this.#observeRecord(lease, now);
    this.#lease = lease;
  }

  /** The expiry clock restarts whenever the record (holder, renewTime...) changes. */
  #observeRecord(lease: Lease, now: number): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = now;
      this.#observedDurationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    }
    this.#leader = lease.spec?.holderIdentity ?? '';
  }

  /** Milliseconds until the observed holder's lease expires (0 when free or expired). */
  #untilExpiry(): number {
    if (this.#leader === '' || this.#leader === this.#options.identity) return 0;
    return Math.max(0, this.#observedAt + this.#observedDurationMs - this.#options.clock.now());
  }

  #reportMissingNamespace(cause: KubeApiError): void {
    const { clock, logger, problemLogIntervalMs, missingNamespaceFix } = this.#options;
    const namespace = cause.details.name ?? '';
    this.#problem ??= new CoffreError(
      LEASE_NAMESPACE_MISSING,
      `namespace ${JSON.stringify(namespace)} of the leader-election Lease does not exist`,
      { retryable: true, cause },
    );
    const now = clock.now();
    if (now - this.#problemLoggedAt < problemLogIntervalMs) return;
    this.#problemLoggedAt = now;
    logger.error(
      { namespace },
      `leader election: namespace ${JSON.stringify(namespace)} does not exist, so this replica cannot lead and reconciles nothing; to fix: ${missingNamespaceFix}`,
    );
  }

  #clearProblem(): void {
    if (this.#problem === undefined) return;
    this.#problem = undefined;
    this.#problemLoggedAt = Number.NEGATIVE_INFINITY;
    this.#options.logger.info('leader election: the Lease namespace exists now');
  }

  #reportLeader(callbacks: LeadershipCallbacks): void {
    if (this.#leader === '' || this.#leader === this.#reportedLeader) return;
    this.#reportedLeader = this.#leader;
    callbacks.onNewLeader?.(this.#leader);
  }

  #reportedLeader = '';

  #isStopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Waits ms, or less when woken or stopped. */
  #pause(ms: number): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#options.clock.setTimer(ms, done);
      const onStop = () => {
        done();
      };
      this.#stop.signal.addEventListener('abort', onStop, { once: true });
      function done(): void {
        timer.cancel();
        resolve();
      }
      this.#wake = () => {
        this.#stop.signal.removeEventListener('abort', onStop);
        done();
      };
    });
  }

  /** An abort signal that fires after ms (and, unless independent, when stop() is called). */
  #deadlineSignal(ms: number, followStop = true): { signal: AbortSignal; cancel: () => void } {
    const controller = new AbortController();
    const timer = this.#options.clock.setTimer(ms, () => {
      controller.abort(
        new CoffreError('lease_timeout', `lease request exceeded ${ms} ms`, { retryable: true }),
      );
    });
    const signal = followStop ? AbortSignal.any([controller.signal, this.#stop.signal]) : controller.signal;
    return {
      signal,
      cancel: () => {
        timer.cancel();
      },
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
