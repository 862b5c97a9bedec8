// The manager composes informers, controllers and leader election (controller-runtime's manager):
// - caches start and sync on every replica, so a standby is warm; controllers start only once their
//   caches are synced, and only on the leader;
// - losing the Lease stops work at once (in-flight reconciles are aborted) and the manager ends with
//   'leadership-lost' — the process should exit and start clean;
// - stop() takes no new work, lets in-flight reconciles finish within the grace period (then aborts
//   them), releases the Lease while still holding it the whole time, and stops the caches;
// - health: ready when every cache has synced and leader election is not stuck on a problem no wait
//   can solve (its Lease namespace missing); live unless a reconcile has been running for longer than
//   stuckWorkerMs (a stuck worker) or leadership was lost. A missing namespace leaves liveness alone:
//   a restart cannot create it, and a crash loop would bury the error line that names the fix.
import type { KubeConfig } from '@kubernetes/client-node';
import { CoffreError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { Controller, type StopReport } from './controller.ts';
import { Informer } from './informer.ts';
import { createKubeHttp, type KubeHttp } from './kube-http.ts';
import { LeaderElector, leaseClient, type Lease } from './leader-election.ts';
import {
  resolveControllerOptions,
  resolveInformerOptions,
  resolveManagerOptions,
  type ControllerSpec,
  type InformerSpec,
  type ManagerInput,
  type ResolvedManagerOptions,
} from './options.ts';
import type { KubeObject } from './types.ts';

export type ManagerExit = 'stopped' | 'leadership-lost';

export interface HealthCheck {
  ok: boolean;
  /** Why not (empty when ok). */
  reasons: string[];
}

/** Both probes and leadership at once, for an HTTP health endpoint. */
export interface HealthReport {
  /** Readiness (/readyz): every cache synced. */
  ready: boolean;
  /** Liveness (/healthz): no stuck worker, leadership not lost. */
  live: boolean;
  leader: boolean;
  /** Why not ready or not live. */
  detail: string[];
}

export interface ShutdownReport {
  /** Per controller: whether it drained, and the keys left running after the abort. */
  controllers: Record<string, StopReport>;
}

export class Manager {
  readonly options: ResolvedManagerOptions;
  readonly http: KubeHttp;
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #controllers: Controller<KubeObject>[] = [];
  readonly #elector: LeaderElector | undefined;
  readonly #leaseWatch: Informer<Lease> | undefined;
  readonly #startAbort = new AbortController();
  readonly #done: Promise<ManagerExit>;
  #resolveDone: (exit: ManagerExit) => void = () => undefined;
  #started: Promise<void> | undefined;
  #stopping: Promise<ShutdownReport> | undefined;
  #leading = false;
  #lost = false;

  constructor(http: KubeHttp, input: ManagerInput = {}) {
    this.options = resolveManagerOptions(input);
    this.http = http;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    const election = this.options.leaderElection;
    if (election !== undefined) {
      this.#elector = new LeaderElector(
        election.client ?? leaseClient(http, election.namespace, election.leaseName),
        election,
      );
      if (election.watchLease) {
        const leaseWatch = this.#newInformer<Lease>({
          name: 'leader-election-lease',
          resource: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
          namespaces: [election.namespace],
          fieldSelector: `metadata.name=${election.leaseName}`,
        });
        const observe = (lease: Lease) => {
          this.#elector?.observe(lease);
        };
        leaseWatch.addHandlers({
          onAdd: observe,
          onUpdate: (_old, lease) => {
            observe(lease);
          },
          onDelete: () => {
            this.#elector?.wake();
          },
        });
        this.#leaseWatch = leaseWatch;
      }
    }
  }

  /** Resolves when the manager has ended: stopped, or leadership lost. */
  get done(): Promise<ManagerExit> {
    return this.#done;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get identity(): string | undefined {
    return this.options.leaderElection?.identity;
  }

  /** Creates an informer whose lifecycle the manager owns. */
  informer<T extends KubeObject>(spec: InformerSpec<T>): Informer<T> {
    this.#assertNotStarted('informer');
    const informer = this.#newInformer(spec);
    this.#informers.push(informer as unknown as Informer<KubeObject>);
    return informer;
  }

  /** Creates a controller whose lifecycle the manager owns. */
  controller<T extends KubeObject>(spec: ControllerSpec<T>): Controller<T> {
    this.#assertNotStarted('controller');
    const { clock, logger, random, observer } = this.options;
    const controller = new Controller<T>(
      resolveControllerOptions(spec, {
        clock,
        logger,
        random,
        ...(observer.controller === undefined ? {} : { observer: observer.controller }),
      }),
    );
    this.#controllers.push(controller as unknown as Controller<KubeObject>);
    return controller;
  }

  /**
   * Starts the caches, waits until they are synced, then starts the controllers (or campaigns for
   * leadership and starts them on winning). Resolves once caches are synced, or when stop() came first.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { logger } = this.options;
    for (const informer of this.#informers) informer.start();
    this.#leaseWatch?.start();
    try {
      await Promise.all(this.#informers.map((informer) => informer.waitForSync(this.#startAbort.signal)));
    } catch (error) {
      // Stopped before the caches synced (SIGTERM during start-up): nothing to start, not a failure.
      if (this.#stopping !== undefined) return;
      throw error;
    }
    logger.info(
      { caches: Object.fromEntries(this.#informers.map((i) => [i.name, i.store.size])) },
      'caches synced',
    );
    const elector = this.#elector;
    if (elector === undefined) {
      this.#startControllers();
      return;
    }
    void elector.run({
      onStartedLeading: () => {
        this.#startControllers();
      },
      onStoppedLeading: (end) => {
        this.#setLeading(false);
        if (end === 'lost') this.#loseLeadership();
      },
      onNewLeader: (identity) => {
        logger.info({ leader: identity }, 'leader observed');
      },
    });
  }

  #startControllers(): void {
    if (this.#stopping !== undefined) return;
    this.#setLeading(true);
    for (const controller of this.#controllers) controller.start();
    this.options.logger.info({ controllers: this.#controllers.map((c) => c.name) }, 'controllers started');
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.options.observer.leading?.(leading);
  }

  /** Stops all work at once and ends the manager; the composition root exits the process. */
  #loseLeadership(): void {
    this.#lost = true;
    for (const controller of this.#controllers) controller.abort('leadership lost');
    this.#resolveDone('leadership-lost');
    try {
      this.options.onLeadershipLost();
    } catch (error) {
      this.options.logger.error({ err: String(error) }, 'onLeadershipLost failed');
    }
    // Caches and connections are no longer needed.
    void this.#stopCaches();
  }

  /**
   * Graceful stop: no new work; in-flight reconciles finish within shutdownGraceMs (then are aborted);
   * the Lease, held until then, is released; caches stop. Idempotent.
   */
  stop(): Promise<ShutdownReport> {
    this.#stopping ??= (async () => {
      const { logger, shutdownGraceMs } = this.options;
      logger.info({ graceMs: shutdownGraceMs }, 'stopping: draining in-flight reconciles');
      this.#startAbort.abort(new CoffreError('manager_stopped', 'manager stopped', { retryable: false }));
      const reports = await Promise.all(
        this.#controllers.map(async (c) => [c.name, await c.stop(shutdownGraceMs)] as const),
      );
      for (const [name, report] of reports) {
        if (!report.drained)
          logger.warn(
            { controller: name, abandoned: report.abandoned },
            'reconciles aborted at the deadline',
          );
      }
      await this.#elector?.stop();
      this.#setLeading(false);
      await this.#stopCaches();
      logger.info('stopped');
      this.#resolveDone(this.#lost ? 'leadership-lost' : 'stopped');
      return { controllers: Object.fromEntries(reports) };
    })();
    return this.#stopping;
  }

  /**
   * Readiness: every cache has synced (a standby is ready too: it is warm), and leader election can
   * succeed some day (a replica whose Lease namespace does not exist can never lead).
   */
  readyz(): HealthCheck {
    const reasons = this.#informers.filter((i) => !i.hasSynced()).map((i) => `cache ${i.name} not synced`);
    const electionProblem = this.#elector?.problem;
    if (electionProblem !== undefined) reasons.push(`leader election: ${electionProblem.message}`);
    if (this.#started === undefined) reasons.push('not started');
    if (this.#stopping !== undefined) reasons.push('stopping');
    return { ok: reasons.length === 0, reasons };
  }

  /** Liveness: no reconcile stuck beyond stuckWorkerMs, and leadership not lost. */
  healthz(): HealthCheck {
    const { clock, stuckWorkerMs } = this.options;
    const reasons: string[] = [];
    if (this.#lost) reasons.push('leadership lost');
    for (const controller of this.#controllers) {
      const since = controller.oldestInFlightSince();
      if (since !== undefined && clock.now() - since > stuckWorkerMs) {
        reasons.push(
          `controller ${controller.name}: a reconcile has run for ${Math.round((clock.now() - since) / 1000)} s`,
        );
      }
    }
    return { ok: reasons.length === 0, reasons };
  }

  health(): HealthReport {
    const ready = this.readyz();
    const live = this.healthz();
    return {
      ready: ready.ok,
      live: live.ok,
      leader: this.#leading,
      detail: [...ready.reasons, ...live.reasons],
    };
  }

  async #stopCaches(): Promise<void> {
    await Promise.all(
      [...this.#informers, ...(this.#leaseWatch === undefined ? [] : [this.#leaseWatch])].map((i) =>
        i.stop(),
      ),
    );
  }

  /** Everything is built before start(): a late informer would never start, a late controller never run. */
  #assertNotStarted(what: string): void {
    if (this.#started !== undefined) {
      throw new CoffreError('manager_started', `cannot add a ${what} after the manager started`, {
        retryable: false,
      });
    }
  }

  #newInformer<T extends KubeObject>(spec: InformerSpec<T>): Informer<T> {
    const { clock, logger, random, observer } = this.options;
    return new Informer<T>(
      resolveInformerOptions(spec, {
        http: this.http,
        clock,
        logger,
        random,
        ...(observer.informer === undefined ? {} : { observer: observer.informer }),
      }),
    );
  }
}

/** A manager talking to the cluster of `kc` (credentials re-read per request, one connection pool). */
export function createManager(kc: KubeConfig, input: ManagerInput = {}): Manager {
  const options = resolveManagerOptions(input);
  return new Manager(
    createKubeHttp(kc, { clock: options.clock, requestTimeoutMs: options.requestTimeoutMs }),
    input,
  );
}

export interface SignalOptions {
  logger: Logger;
  /** Ends the process; the composition root passes process.exit. */
  exit: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
}

/**
 * Wires SIGTERM and SIGINT to a graceful stop and exit code 0 (1 if stopping failed); a second signal
 * exits at once with 1. Only the composition root calls this. Returns a function that unwires them.
 */
export function installSignalHandlers(
  manager: { stop(): Promise<unknown> },
  options: SignalOptions,
): () => void {
  const { logger, exit } = options;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received: shutting down');
    manager.stop().then(
      () => {
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
