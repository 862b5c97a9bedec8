// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a candidate
// takes the Lease when it is free or expired (judged by how long *this* process has seen it unchanged,
// so clocks need not agree), renews it every retry period, stops leading at once when it could not renew
// within the renew deadline, and releases it on shutdown so a standby takes over without waiting.
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import { createKubeHttp, KubeApiError, kubeApiErrorFrom, type KubeRequest } from './kube-http.ts';

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

export interface LeaderCallbacks {
  /** Became leader; the signal aborts when leadership ends (lost or released). */
  onStartedLeading(signal: AbortSignal): void;
  /** Leadership ended; `lost` is false only for a voluntary release. */
  onStoppedLeading(lost: boolean): void;
  onNewLeader?(identity: string): void;
}

/** The calls leader election needs; a thin port over the Lease API. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replaces with optimistic concurrency (metadata.resourceVersion); throws on conflict. */
  replace(namespace: string, lease: V1Lease): Promise<V1Lease>;
}

/**
 * A Lease as the API server accepts it. acquireTime and renewTime are MicroTime: RFC 3339 with exactly
 * six fractional digits. @kubernetes/client-node writes Dates with three (toISOString), which the API
 * server refuses ("cannot parse \".003Z\" as \".000000\"", 400): no candidate could ever take a Lease.
 */
export function leaseToWire(lease: V1Lease): string {
  return JSON.stringify(
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
    function (this: Record<string, unknown>, key: string, value: unknown) {
      const original = this[key];
      return original instanceof Date ? original.toISOString().replace(/Z$/, '000Z') : value;
    },
  );
}

function leaseFromWire(text: string): V1Lease {
  const lease = JSON.parse(text) as V1Lease & { spec?: { acquireTime?: unknown; renewTime?: unknown } };
  const spec = lease.spec;
  if (spec !== undefined) {
    if (typeof spec.acquireTime === 'string') spec.acquireTime = new Date(spec.acquireTime);
    if (typeof spec.renewTime === 'string') spec.renewTime = new Date(spec.renewTime);
  }
  return lease;
}

export function leaseClient(kc: KubeConfig): LeaseClient {
  const http = createKubeHttp(kc);
  const leases = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const send = async (path: string, request: KubeRequest): Promise<V1Lease> => {
    const response = await http.send(path, request);
    if (!response.ok) throw await kubeApiErrorFrom(response);
    return leaseFromWire(await response.text());
  };
  return {
    async get(namespace, name) {
      try {
        return await send(`${leases(namespace)}/${name}`, {});
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    create: (namespace, lease) =>
      send(leases(namespace), { method: 'POST', contentType: 'application/json', body: leaseToWire(lease) }),
    replace: (namespace, lease) =>
      send(`${leases(namespace)}/${lease.metadata?.name ?? ''}`, {
        method: 'PUT',
        contentType: 'application/json',
        body: leaseToWire(lease),
      }),
  };
}

/** MicroTime as the API serialises it. */
function microTime(ms: number): Date {
  return new Date(ms);
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #client: LeaseClient;
  #observedRecord = '';
  #observedAt = 0;
  #observedLease: V1Lease | undefined;
  #leading: AbortController | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #reportedLeader = '';

  constructor(client: LeaseClient, options: LeaderElectionOptions) {
    this.#client = client;
    this.#options = options;
  }

  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** Runs until stop(): acquire, lead, and on loss try to acquire again. */
  run(callbacks: LeaderCallbacks): void {
    this.#loop ??= this.#run(callbacks);
  }

  /** Stops competing; releases the Lease if held. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(callbacks: LeaderCallbacks): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs, logger } = this.#options;
    let lastRenew = 0;
    while (!this.#stopped) {
      const acquired = await this.#tryAcquireOrRenew().catch((error: unknown) => {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'leader election: lease update failed',
        );
        return false;
      });
      if (this.#stopped as boolean) break;
      if (acquired) {
        lastRenew = clock.now();
        if (this.#leading === undefined) {
          this.#leading = new AbortController();
          logger.info({ identity: this.#options.identity }, 'leader election: became leader');
          callbacks.onStartedLeading(this.#leading.signal);
        }
      } else if (this.#leading !== undefined && clock.now() - lastRenew >= renewDeadlineMs) {
        logger.error(
          { identity: this.#options.identity },
          'leader election: could not renew the lease: stopping work',
        );
        this.#leading.abort(new Error('leadership lost'));
        this.#leading = undefined;
        callbacks.onStoppedLeading(true);
      }
      const holder = this.#observedLease?.spec?.holderIdentity ?? '';
      if (holder !== '' && holder !== this.#reportedLeader) {
        this.#reportedLeader = holder;
        callbacks.onNewLeader?.(holder);
      }
      // Jittered retry period, as client-go does, so candidates do not move in lockstep.
      const wait = retryPeriodMs * (this.#leading === undefined ? 1 + 0.2 * this.#options.random() : 1);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        const timer = clock.setTimer(wait, resolve);
        if (this.#stopped) {
          timer.cancel();
          resolve();
        }
      });
    }
    if (this.#leading !== undefined) {
      this.#leading.abort(new Error('leadership released'));
      this.#leading = undefined;
      await this.#release().catch((error: unknown) => {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'leader election: release failed',
        );
      });
      callbacks.onStoppedLeading(false);
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName, identity, leaseDurationMs, clock } = this.#options;
    const now = clock.now();
    const leaseDurationSeconds = Math.max(1, Math.round(leaseDurationMs / 1000));
    const current = await this.#client.get(namespace, leaseName);
    if (current === undefined) {
      const created = await this.#client.create(namespace, {
        metadata: { name: leaseName, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      this.#observe(created, now);
      return true;
    }
    this.#observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (heldByOther && this.#observedAt + duration > now) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const updated = await this.#client.replace(namespace, {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: holder === identity ? (spec.acquireTime ?? microTime(now)) : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    });
    this.#observe(updated, now);
    return true;
  }

  /** Gives the Lease up at once: the next candidate sees it free instead of waiting for it to expire. */
  async #release(): Promise<void> {
    const { namespace, leaseName, identity, clock } = this.#options;
    const current = await this.#client.get(namespace, leaseName);
    if (current?.spec?.holderIdentity !== identity) return;
    await this.#client.replace(namespace, {
      ...current,
      spec: {
        ...current.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(clock.now()),
      },
    });
  }

  #observe(lease: V1Lease, now: number): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = now;
    }
    this.#observedLease = lease;
  }
}
