// The VaultConnection reconciler: gather (an immutable snapshot of the connection and what it
// references), policy (pure: what to do, and after a token what to record), act (the I/O only), report
// (status patched only when it changed, an Event per transition). The next renewal is requested
// through requeueAfter; nothing here sets a timer.
import type { V1Secret } from '@kubernetes/client-node';
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import { GROUP, VERSION, type OAuthClient, type VaultConnection } from '../../api/v1alpha1/resources.ts';
import type { Validators } from '../../api/validation.ts';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../controller/store.ts';
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from '../../controller/types.ts';
import { CoffreError } from '../../errors.ts';
import { KubeApiError } from '../../controller/kube-http.ts';
import { isNotFound } from '../../kube/kube-port.ts';
import { REVOKE_FINALIZER } from '../../api/v1alpha1/metadata-keys.ts';
import type { KubePort } from '../../kube/kube-port.ts';
import type { OwnedSecretData } from '../../kube/owned-secret-data.ts';
import type { WrittenView } from '../../kube/read-your-writes.ts';
import type { SecretReader } from '../../kube/secret-reader.ts';
import type { TokenEngine, TokenSet } from '../../oauth/index.ts';
import type { EventRecorder } from '../../observability/events.ts';
import type { ProvidersConfig } from '../../providers/provider.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import type { RecordKey } from '../../secrets/record-key.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import { findCondition } from '../conditions.ts';
import { eventTarget, reportStatus, type ReportKind } from '../report.ts';
import {
  persistRotation,
  requestToken,
  restartWorkloads,
  VAULT_CONNECTION_KIND,
  writeTarget,
} from './act.ts';
import { gather, type Observed, type RetryState } from './gather.ts';
import {
  decide,
  forceRefreshValue,
  judgeFailure,
  planFor,
  preflight,
  judgeToken,
  planTargetWrite,
  publishedRecord,
  publishesExpiringTokens,
  scheduleFor,
  targetConflict,
  wakeAfter,
  type PolicyEnv,
  type TokenToRequest,
} from './policy.ts';
import { RestartQueue } from './restart-queue.ts';
import { retryFromStatus } from './retry-record.ts';
import {
  planRevocation,
  revocationDeadline,
  revocationRetryable,
  REVOCATION_RETRY_MS,
  REVOCATION_TIMEOUT_MS,
  revokeOnDelete,
} from './revocation.ts';
import { seedHash, type PendingRotation } from './state-secret.ts';
import { acknowledgedForceRefresh, desiredStatus, type Outcome } from './status.ts';
import type { PublishedRecord } from './target-secret.ts';

export const VAULT_CONNECTIONS = { group: GROUP, version: VERSION, plural: 'vaultconnections' } as const;

const REPORT: ReportKind = {
  ...VAULT_CONNECTION_KIND,
  resource: VAULT_CONNECTIONS,
  // Empty and Expired are news when True: no Event for their normal False state (see transitions).
  normallyFalse: new Set([ConditionType.Empty, ConditionType.Expired]),
  isWarning: (c) =>
    (c.type === ConditionType.Ready && c.status !== 'True') ||
    (c.type === ConditionType.Expired && c.status === 'True'),
};

export interface VaultConnectionReconcilerDeps {
  /** The connections' cache, reading our own status writes. */
  connections: WrittenView<VaultConnection>;
  clients: Pick<Store<OAuthClient>, 'get'>;
  /** coffre's own Secrets (label-selected cache, metadata only), reading our own writes. */
  ownedSecrets: WrittenView<V1Secret>;
  /** The data of this connection's own Secrets, read by name once per version. */
  ownedData: OwnedSecretData;
  secrets: SecretReader;
  port: KubePort;
  events: EventRecorder;
  engine: TokenEngine;
  providers: ProviderRegistry;
  providersConfig: ProvidersConfig;
  validators: Validators;
  clock: Clock;
  random: () => number;
  /** The operator's record key (loaded once, from its Secret). */
  recordKey: () => Promise<RecordKey>;
  observer?: ConnectionObserver;
  /** The connections of a namespace (revocation leaves tokens other connections may share). */
  namespaceConnections?: (namespace: string) => readonly VaultConnection[];
  /** Time between two workload restarts, operator-wide (default ROLLOUT_RESTART_SPACING_MS). */
  rolloutRestartSpacingMs?: number;
}

/** Workload restarts are spaced this far apart across the operator (docs/operations.md). */
export const ROLLOUT_RESTART_SPACING_MS = 2_000;

/** Hooks for metrics. */
export interface ConnectionObserver {
  refreshed?(connection: VaultConnection, result: 'success' | 'failure' | 'skipped', reason?: string): void;
  published?(connection: VaultConnection, expiresAt: number | undefined): void;
  conditions?(connection: VaultConnection, status: { ready: string; reason: string }): void;
  forgotten?(key: ObjectKey): void;
}

/** How a reconcile ended, for the report. */
interface Ending {
  outcome: Outcome;
  /** The target Secret after this reconcile's writes. */
  target: V1Secret | undefined;
  expiring: boolean;
  refreshAt?: number | undefined;
  requeueAfterMs?: number | undefined;
  /** Whether this reconcile wrote the target Secret (for the log line). */
  wrote?: boolean;
}

/** Publishing stopped short (template error, conflict), or what the target now holds. */
type Published =
  | { outcome: Outcome; target: V1Secret | undefined }
  | { outcome: undefined; target: V1Secret | undefined; wrote: boolean };

export class VaultConnectionReconciler implements Reconciler {
  readonly #deps: VaultConnectionReconcilerDeps;
  readonly #retries = new Map<string, RetryState>();
  /** Rotated refresh tokens not yet persisted (the write failed): never lose one. */
  readonly #unpersisted = new Map<string, PendingRotation>();
  readonly #restarts: RestartQueue;

  constructor(deps: VaultConnectionReconcilerDeps) {
    this.#deps = deps;
    this.#restarts = new RestartQueue(deps.rolloutRestartSpacingMs ?? ROLLOUT_RESTART_SPACING_MS);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const id = `${key.namespace}/${key.name}`;
    const connection = this.#deps.connections.get(id);
    if (connection === undefined) {
      // Deleted: the garbage collector removes the Secrets it owned.
      this.#retries.delete(id);
      this.#restarts.forget(id);
      this.#deps.observer?.forgotten?.(key);
      return undefined;
    }
    if (connection.metadata.deletionTimestamp !== undefined) return this.#finalize(id, connection, context);
    await this.#ensureFinalizer(connection, context);
    const recordKey = await this.#deps.recordKey();
    const now = this.#deps.clock.now();
    const force = forceRefreshValue(connection);
    // A restarted operator (or a new leader) keeps the backoff its predecessor recorded in status.
    if (!this.#retries.has(id)) {
      const recorded = retryFromStatus(connection.status);
      if (recorded !== undefined) this.#retries.set(id, recorded);
    }
    const observed = await gather(
      this.#deps,
      connection,
      { retry: this.#retries.get(id), pendingRotation: this.#unpersisted.get(id) },
      force !== undefined && force !== connection.status?.observedForceRefresh,
    );
    const env: PolicyEnv = {
      now,
      providers: this.#deps.providers,
      providersConfig: this.#deps.providersConfig,
      recordKey,
    };
    const decision = decide(observed, env);
    const expiring = publishesExpiringTokens(connection, decision);
    const ending = (outcome: Outcome, more: Partial<Ending> = {}): Ending => ({
      outcome,
      target: observed.target,
      expiring,
      ...more,
    });
    let result: Ending;
    switch (decision.kind) {
      case 'report':
        result = ending(decision.outcome);
        break;
      case 'wait':
        // Still waiting out a backoff or a Retry-After: report the failure again, come back then.
        result = ending(decision.outcome, { requeueAfterMs: decision.requeueAfterMs });
        break;
      case 'reuse':
        this.#retries.delete(id);
        // After a restart, let connections that share this token reuse it instead of minting their own.
        if (decision.share !== undefined)
          this.#deps.engine.seed(decision.share.request, decision.share.token);
        result = ending({ kind: 'token-valid' }, { refreshAt: decision.refreshAt });
        break;
      case 'publish-static': {
        const record = decision.forceValue === undefined ? {} : { forceRefreshHandled: decision.forceValue };
        const published = await this.#publish(observed, decision.data, record, recordKey, context);
        result =
          published.outcome === undefined
            ? ending({ kind: 'static-published' }, { target: published.target, wrote: published.wrote })
            : ending(published.outcome, { target: published.target });
        break;
      }
      case 'request':
        result = {
          ...(await this.#requestAndPublish(id, observed, decision.token, env, context)),
          expiring,
        };
        break;
    }
    return this.#finish(observed, env, context, result);
  }

  /** The revocation finalizer is on the connection exactly while revokeOnDelete is in effect. */
  async #ensureFinalizer(connection: VaultConnection, context: ReconcileContext): Promise<void> {
    const namespace = connection.metadata.namespace ?? '';
    const ref = connection.spec.oauthClientRef;
    const client = ref === undefined ? undefined : this.#deps.clients.get(`${namespace}/${ref.name}`);
    const wanted = revokeOnDelete(connection, client);
    const present = (connection.metadata.finalizers ?? []).includes(REVOKE_FINALIZER);
    if (wanted === present) return;
    try {
      await this.#applyFinalizer(connection, wanted);
    } catch (error) {
      // Forbidden (an older chart's RBAC lacks the patch): the tokens are still published, revocation
      // on delete is what is lost, and the log says so; the next reconcile tries again.
      if (error instanceof KubeApiError && error.status === 403) {
        context.logger.warn(
          { finalizer: REVOKE_FINALIZER, err: error.message },
          `cannot ${wanted ? 'add' : 'remove'} the revokeOnDelete finalizer`,
        );
        return;
      }
      throw error;
    }
  }

  async #applyFinalizer(connection: VaultConnection, present: boolean): Promise<void> {
    try {
      await this.#deps.port.applyFinalizer(
        VAULT_CONNECTIONS,
        {
          ...VAULT_CONNECTION_KIND,
          namespace: connection.metadata.namespace ?? '',
          name: connection.metadata.name ?? '',
        },
        REVOKE_FINALIZER,
        present,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * A connection being deleted with the revocation finalizer: revoke its tokens, then release it — at
   * once when revocation succeeded or cannot succeed, and at the latest REVOCATION_TIMEOUT_MS after the
   * deletion while the endpoint fails (tried at least once).
   */
  async #finalize(
    id: string,
    connection: VaultConnection,
    context: ReconcileContext,
  ): Promise<ReconcileResult | undefined> {
    if (!(connection.metadata.finalizers ?? []).includes(REVOKE_FINALIZER)) return undefined;
    const target = eventTarget(VAULT_CONNECTION_KIND, connection);
    const release = async (
      type: 'Normal' | 'Warning',
      reason: Reason,
      message: string,
    ): Promise<ReconcileResult | undefined> => {
      this.#deps.events.record(target, type, reason, message);
      context.logger[type === 'Normal' ? 'info' : 'warn']({ reason }, message);
      await this.#applyFinalizer(connection, false);
      this.#restarts.forget(id);
      return undefined;
    };
    const recordKey = await this.#deps.recordKey();
    const env: PolicyEnv = {
      now: this.#deps.clock.now(),
      providers: this.#deps.providers,
      providersConfig: this.#deps.providersConfig,
      recordKey,
    };
    const observed = await gather(this.#deps, connection, {
      retry: undefined,
      pendingRotation: this.#unpersisted.get(id),
    });
    const refused = preflight(observed);
    const planned = refused === undefined ? planFor(observed, env) : { outcome: refused };
    if ('outcome' in planned) {
      const why = 'message' in planned.outcome ? planned.outcome.message : planned.outcome.kind;
      return release('Warning', Reason.RevocationFailed, `tokens not revoked: ${why}`);
    }
    const { plan, seed } = planned;
    if (plan.kind !== 'token' || (plan.request.flavour ?? 'standard') !== 'standard') {
      return release(
        'Warning',
        Reason.RevocationFailed,
        `tokens not revoked: ${connection.spec.type} credentials have no RFC 7009 revocation`,
      );
    }
    const namespace = connection.metadata.namespace ?? '';
    const revocation = planRevocation(
      observed,
      seed,
      this.#deps.namespaceConnections?.(namespace) ?? [],
      recordKey,
    );
    const revoked: string[] = [];
    const refusals: string[] = [];
    try {
      for (const { token, hint } of revocation.revoke) {
        const what = hint === 'access_token' ? 'the access token' : 'the refresh token';
        try {
          if (!(await this.#deps.engine.revoke(plan.request.client, token, hint))) {
            return await release(
              'Warning',
              Reason.RevocationFailed,
              `tokens not revoked: ${plan.request.client.issuer} advertises no revocation_endpoint`,
            );
          }
          revoked.push(what);
        } catch (error) {
          // A refusal (unsupported_token_type for a self-contained JWT, invalid_client) will not change:
          // say so and go on; only what may pass later (network, 5xx, 429) is tried again.
          if (!(error instanceof CoffreError) || revocationRetryable(error)) throw error;
          refusals.push(`${what} not revoked: ${error.message}`);
        }
      }
    } catch (error) {
      if (!(error instanceof CoffreError)) throw error;
      const now = this.#deps.clock.now();
      const deadline = revocationDeadline(connection);
      if (now + REVOCATION_RETRY_MS <= deadline) {
        context.logger.info(
          { code: error.code, retryInMs: REVOCATION_RETRY_MS },
          `revocation failed: ${error.message}`,
        );
        return { requeueAfterMs: REVOCATION_RETRY_MS };
      }
      return release(
        'Warning',
        Reason.RevocationFailed,
        `tokens not revoked within ${REVOCATION_TIMEOUT_MS / 1000}s of the deletion, finalizer released: ${error.message}`,
      );
    }
    const done = revoked.length === 0 ? 'nothing revoked' : `revoked ${revoked.join(' and ')}`;
    const message = [done, ...refusals, ...revocation.kept].join('; ');
    return refusals.length > 0
      ? release('Warning', Reason.RevocationFailed, message)
      : release('Normal', Reason.TokensRevoked, message);
  }

  async #requestAndPublish(
    id: string,
    observed: Observed,
    request: TokenToRequest,
    env: PolicyEnv,
    context: ReconcileContext,
  ): Promise<Omit<Ending, 'expiring'>> {
    const { connection } = observed;
    const { now, recordKey: key } = env;
    let token: TokenSet;
    try {
      token = await requestToken(this.#deps, connection, request);
    } catch (error) {
      if (!(error instanceof CoffreError)) throw error;
      const failure = judgeFailure(observed, request, error, now, this.#deps.random);
      this.#retries.set(id, failure.retry);
      this.#deps.observer?.refreshed?.(connection, 'failure', failure.reason);
      return { outcome: failure.outcome, target: observed.target, requeueAfterMs: failure.requeueAfterMs };
    }
    this.#retries.delete(id);
    const verdict = judgeToken(observed, request, token, key);
    if (verdict.persist !== undefined) {
      // Rotation: persist the new refresh token before the new access token is used anywhere.
      await this.#persist(id, connection, verdict.persist, request.seed);
    }
    if (verdict.scopesWarning !== undefined) {
      this.#deps.events.record(
        eventTarget(VAULT_CONNECTION_KIND, connection),
        'Warning',
        Reason.ScopesExceeded,
        verdict.scopesWarning,
      );
    }
    if (verdict.next.kind === 'refuse') return { outcome: verdict.next.outcome, target: observed.target };
    const published = await this.#publish(observed, verdict.next.data, verdict.next.record, key, context);
    if (published.outcome !== undefined) return { outcome: published.outcome, target: published.target };
    this.#deps.observer?.refreshed?.(connection, 'success');
    return {
      outcome: { kind: 'token-valid' },
      target: published.target,
      wrote: published.wrote,
      refreshAt: scheduleFor(connection, publishedRecord(connection, published.target, key)),
    };
  }

  async #persist(
    id: string,
    connection: VaultConnection,
    refreshToken: SecretValue,
    seed: SecretValue | undefined,
  ): Promise<void> {
    const rotation = { refreshToken, seedHash: seedHash(connection, seed) };
    this.#unpersisted.set(id, rotation);
    await persistRotation(this.#deps, connection, rotation);
    this.#unpersisted.delete(id);
  }

  /** Writes the target Secret if it differs; an outcome only when publishing is impossible. */
  async #publish(
    observed: Observed,
    data: ReadonlyMap<string, SecretValue>,
    record: Omit<PublishedRecord, 'dataHash'>,
    key: RecordKey,
    context: ReconcileContext,
  ): Promise<Published> {
    const { connection } = observed;
    const write = planTargetWrite(observed, data, record, key);
    if (write.kind === 'refuse') return { outcome: write.outcome, target: observed.target };
    if (write.kind === 'unchanged') return { outcome: undefined, target: observed.target, wrote: false };
    context.signal.throwIfAborted();
    const written = await writeTarget(this.#deps, connection, observed.target, write.secret);
    if (written.kind === 'conflict')
      return { outcome: targetConflict(observed.targetName), target: observed.target };
    this.#deps.observer?.published?.(connection, record.expiresAt);
    if (write.restartFor !== undefined) {
      this.#restarts.plan(
        idOf(connection),
        connection.spec.rolloutRestartTargets ?? [],
        write.restartFor,
        this.#deps.clock.now(),
      );
    }
    return { outcome: undefined, target: written.secret, wrote: true };
  }

  async #finish(
    observed: Observed,
    env: PolicyEnv,
    context: ReconcileContext,
    ending: Ending,
  ): Promise<ReconcileResult | undefined> {
    const { connection } = observed;
    const { now } = env;
    const record = publishedRecord(connection, ending.target, env.recordKey);
    const status = desiredStatus(connection.status, {
      generation: connection.metadata.generation ?? 0,
      outcome: ending.outcome,
      record,
      secretName: observed.targetName,
      expiring: ending.expiring,
      ...(ending.refreshAt === undefined ? {} : { nextRefreshAt: ending.refreshAt }),
      retry: this.#retries.get(idOf(connection)),
      observedForceRefresh: acknowledgedForceRefresh({
        previous: connection.status?.observedForceRefresh,
        requested: forceRefreshValue(connection),
        handled: record?.forceRefreshHandled,
        outcome: ending.outcome,
      }),
      now,
    });
    const restarts = this.#restarts.take(idOf(connection), this.#deps.clock.now());
    if (restarts.due.length > 0) await restartWorkloads(this.#deps, connection, restarts.due);
    const report = await reportStatus(this.#deps, REPORT, connection, status, context.signal);
    if (report.changed) this.#deps.connections.wrote(report.stored as VaultConnection);
    const ready = findCondition(status.conditions, ConditionType.Ready);
    this.#deps.observer?.conditions?.(connection, {
      ready: ready?.status ?? 'Unknown',
      reason: ready?.reason ?? '',
    });
    // One line per reconcile: info when something changed, debug for a no-op.
    const wrote = ending.wrote ?? false;
    context.logger[wrote || report.changed ? 'info' : 'debug'](
      {
        type: connection.spec.type,
        ready: ready?.status,
        reason: ready?.reason,
        wrote,
        durationMs: this.#deps.clock.now() - now,
      },
      'reconciled',
    );
    const wake = wakeAfter({
      outcome: ending.outcome,
      record,
      refreshAt: ending.refreshAt,
      requeueAfterMs: minDefined(ending.requeueAfterMs, restarts.nextInMs),
      now,
    });
    return wake === undefined ? undefined : { requeueAfterMs: wake };
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

function idOf(connection: VaultConnection): string {
  return `${connection.metadata.namespace ?? ''}/${connection.metadata.name ?? ''}`;
}
