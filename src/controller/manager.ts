// The manager composes informers, controllers and leader election: caches start and sync on every
// replica (a standby is warm), controllers run only on the leader, losing the Lease stops work at once,
// and stop() drains in-flight reconciles within a deadline and then releases the Lease.
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { Controller } from './controller.ts';
import type { Informer } from './informer.ts';
import type { LeaderElector } from './leader-election.ts';
import type { KubeObject } from './types.ts';

export interface ManagerOptions {
  informers: readonly Informer<KubeObject>[];
  controllers: readonly Controller<KubeObject>[];
  /** Absent: this replica always leads (leader election off). */
  leaderElector?: LeaderElector;
  clock: Clock;
  logger: Logger;
  shutdownGraceMs: number;
  /** A reconcile running longer than this makes liveness fail. */
  stuckWorkerMs: number;
  /** Called when leadership is lost (not released): the process should exit and restart clean. */
  onLeadershipLost?: () => void;
  /** Leadership changes, for metrics. */
  onLeading?: (leading: boolean) => void;
}

export interface HealthReport {
  ready: boolean;
  live: boolean;
  leader: boolean;
  detail: string[];
}

export class Manager {
  readonly #options: ManagerOptions;
  #started = false;
  #leading = false;
  #stopped: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#options = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Starts informers, waits for their caches, then runs controllers (as leader). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { informers, logger } = this.#options;
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((informer) => informer.waitForSync(signal)));
    logger.info({ informers: informers.map((i) => `${i.name}=${i.store.size}`) }, 'caches synced');
    const elector = this.#options.leaderElector;
    if (elector === undefined) {
      this.#startControllers();
      return;
    }
    elector.run({
      onStartedLeading: () => {
        this.#startControllers();
      },
      onStoppedLeading: (lost) => {
        this.#leading = false;
        this.#options.onLeading?.(false);
        if (lost) {
          for (const controller of this.#options.controllers) controller.abort();
          this.#options.onLeadershipLost?.();
        }
      },
      onNewLeader: (identity) => {
        logger.info({ leader: identity }, 'leader elected');
      },
    });
  }

  #startControllers(): void {
    this.#leading = true;
    this.#options.onLeading?.(true);
    for (const controller of this.#options.controllers) controller.start();
    this.#options.logger.info(
      { controllers: this.#options.controllers.map((c) => c.name) },
      'controllers started',
    );
  }

  /** Graceful stop: no new work, in-flight reconciles finish (or are aborted at the deadline), Lease released. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const { controllers, informers, leaderElector, shutdownGraceMs, logger } = this.#options;
      logger.info({ graceMs: shutdownGraceMs }, 'stopping: draining in-flight reconciles');
      await Promise.all(controllers.map((controller) => controller.stop(shutdownGraceMs)));
      await leaderElector?.stop();
      await Promise.all(informers.map((informer) => informer.stop()));
      logger.info('stopped');
    })();
    return this.#stopped;
  }

  health(): HealthReport {
    const { informers, controllers, clock, stuckWorkerMs } = this.#options;
    const detail: string[] = [];
    const unsynced = informers.filter((i) => !i.hasSynced()).map((i) => i.name);
    if (unsynced.length > 0) detail.push(`caches not synced: ${unsynced.join(', ')}`);
    let live = true;
    for (const controller of controllers) {
      const since = controller.oldestInFlightSince();
      if (since !== undefined && clock.now() - since > stuckWorkerMs) {
        live = false;
        detail.push(
          `controller ${controller.name} has a reconcile running for ${Math.round((clock.now() - since) / 1000)} s`,
        );
      }
    }
    return { ready: unsynced.length === 0 && this.#started, live, leader: this.#leading, detail };
  }
}

/**
 * Wires SIGTERM and SIGINT to a graceful stop, then exit code 0; a second signal exits at once.
 * Only the composition root calls this.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, exit: (code: number) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received: shutting down');
    stop().then(
      () => {
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
