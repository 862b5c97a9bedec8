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
import { findCondition, formatTime } from '../conditions.ts';
import { reconciling, type HealthCause } from '../health.ts';
import { eventTarget, reportProgress, reportStatus, type ReportKind } from '../report.ts';
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
import { flightHost, type Settled, type TokenFlights } from './token-flights.ts';
import { acknowledgedForceRefresh, desiredStatus, progressStatus, type Outcome } from './status.ts';
import type { VaultConnectionStatus } from '../../api/v1alpha1/vault-connection.ts';
import type { PublishedRecord } from './target-secret.ts';

/**
 * How long a token request (a first token, one for a changed spec, a renewal) may take before coffre
 * writes Reconciling=True for it: a quick one writes only its outcome, so that a new connection and a
 * routine renewal cost two API writes (the Secret, the status); a slow or hanging one shows as in
 * progress within a second.
 */
export const PROGRESS_NOTE_AFTER_MS = 1000;

export const VAULT_CONNECTIONS = { group: GROUP, version: VERSION, plural: 'vaultconnections' } as const;

const REPORT: ReportKind = {
  ...VAULT_CONNECTION_KIND,
  resource: VAULT_CONNECTIONS,
  // Empty and Expired are news when True: no Event for their normal False state (see transitions).
  normallyFalse: new Set([ConditionType.Empty, ConditionType.Expired]),
  unannounced: new Set([ConditionType.Reconciling, ConditionType.Stalled]),
  // A connection Ready at once says so in its status; an Event only when that first Ready follows a
  // problem (Ready=False before it), and for every transition after (decision in docs/performance.md).
  quietFirstTrue: new Set([ConditionType.Ready]),
  isWarning: (c) =>
    (c.type === ConditionType.Ready &&
      (c.status !== 'True' ||
        c.reason === Reason.RenewalFailing ||
        c.reason === Reason.CredentialsRetiring)) ||
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
  /**
   * Token requests outside the workers (woken when they settle). Without it, a reconcile waits for its
   * token itself.
   */
  flights?: TokenFlights;
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

  /** At shutdown: the token requests on the wire finish (a rotation they receive is written). */
  drain(withinMs: number): Promise<boolean> {
    return this.#deps.flights?.drain(withinMs) ?? Promise.resolve(true);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const id = `${key.namespace}/${key.name}`;
    const connection = this.#deps.connections.get(id);
    if (connection === undefined) {
      // Deleted: the garbage collector removes the Secrets it owned.
      this.#retries.delete(id);
      this.#deps.flights?.forget(id);
      this.#restarts.forget(id);
      this.#deps.observer?.forgotten?.(key);
      return undefined;
    }
    if (connection.metadata.deletionTimestamp !== undefined) return this.#finalize(id, connection, context);
    await this.#ensureFinalizer(connection, context);
    // A connection coffre has not written yet reads as not observed (the CRD defaults
    // status.observedGeneration to 0); its first status is this reconcile's outcome, or Reconciling=True
    // if a token takes longer than PROGRESS_NOTE_AFTER_MS.
    let current = connection.status;
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
            ? ending(
                {
                  kind: 'static-published',
                  ...(decision.retiring === undefined ? {} : { retiring: decision.retiring }),
                },
                { target: published.target, wrote: published.wrote },
              )
            : ending(published.outcome, { target: published.target });
        break;
      }
      case 'request': {
        const cause = requestCause(
          publishedRecord(connection, observed.target, recordKey),
          decision.token.requestHash,
        );
        if (this.#deps.flights !== undefined) {
          const obtained = await this.#obtain(id, observed.connection, decision.token);
          if (obtained.kind === 'waiting') {
            // The token is on its way, outside this worker: the connection is woken when it arrives.
            return this.#waiting(connection, current, context, cause, now - obtained.since);
          }
          result = {
            ...(await this.#publishToken(id, observed, decision.token, obtained.settled, env, context)),
            expiring,
          };
          break;
        }
        // Without flights the request runs in this reconcile; a timer writes the note if it is slow.
        let noted: Promise<VaultConnectionStatus | undefined> | undefined;
        const timer = reconciling(current?.conditions)
          ? undefined
          : this.#deps.clock.setTimer(PROGRESS_NOTE_AFTER_MS, () => {
              noted = this.#progress(connection, current, context, cause).catch(() => current);
            });
        try {
          const settled = await this.#inline(connection, decision.token);
          result = {
            ...(await this.#publishToken(id, observed, decision.token, settled, env, context)),
            expiring,
          };
        } finally {
          timer?.cancel();
        }
        if (noted !== undefined) current = await noted;
        break;
      }
    }
    return this.#finish(observed, env, context, result, current);
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

  /** Writes Reconciling=True for `cause` (no Event); returns the status as stored. */
  async #progress(
    connection: VaultConnection,
    current: VaultConnectionStatus | undefined,
    context: ReconcileContext,
    cause: HealthCause,
  ): Promise<VaultConnectionStatus | undefined> {
    const desired = progressStatus(
      current,
      cause,
      connection.metadata.generation ?? 0,
      this.#deps.clock.now(),
    );
    const object = { metadata: connection.metadata, status: current };
    const report = await reportProgress(this.#deps, REPORT, object, desired, context.signal);
    if (!report.changed) return current;
    const stored = report.stored as VaultConnection;
    this.#deps.connections.wrote(stored);
    return stored.status;
  }

  /**
   * The token for this request: settled now (a shared token, or a flight that has landed), or
   * undefined while a flight is queued or on the wire.
   */
  async #obtain(
    id: string,
    connection: VaultConnection,
    request: TokenToRequest,
  ): Promise<{ kind: 'settled'; settled: Settled } | { kind: 'waiting'; since: number }> {
    const flights = this.#deps.flights;
    if (flights === undefined) return { kind: 'settled', settled: await this.#inline(connection, request) };
    // A forced request is another request than the unforced one in flight.
    const identity = `${request.requestHash}${request.force ? `/force=${request.forceValue ?? ''}` : ''}`;
    const run = () => this.#fly(id, connection, request);
    const state = flights.take(id, identity);
    if (state.kind !== 'none') return state;
    return flights.settledAtOnce(id, identity, flightHost(request.plan.request.client), run);
  }

  /** The token requested in this reconcile (no flights): the rotation is persisted by the publishing step. */
  async #inline(connection: VaultConnection, request: TokenToRequest): Promise<Settled> {
    try {
      return { ok: true, token: await requestToken(this.#deps, connection, request), persisted: false };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * A reconcile whose token is on its way: nothing to write while it is quick; once it has taken
   * PROGRESS_NOTE_AFTER_MS, Reconciling=True says so (once). The flight wakes the connection.
   */
  async #waiting(
    connection: VaultConnection,
    current: VaultConnectionStatus | undefined,
    context: ReconcileContext,
    cause: HealthCause,
    elapsedMs: number,
  ): Promise<ReconcileResult | undefined> {
    if (reconciling(current?.conditions)) return undefined;
    if (elapsedMs < PROGRESS_NOTE_AFTER_MS) return { requeueAfterMs: PROGRESS_NOTE_AFTER_MS - elapsedMs };
    await this.#progress(connection, current, context, cause);
    return undefined;
  }

  /**
   * A flight: requests the token and persists a rotated refresh token at once, before anything uses
   * the token.
   */
  async #fly(
    id: string,
    connection: VaultConnection,
    request: TokenToRequest,
  ): Promise<{ token: TokenSet; persisted: boolean }> {
    const token = await requestToken(this.#deps, connection, request);
    const rotated = request.plan.request.grant.type === 'refresh_token' ? token.refreshToken : undefined;
    if (rotated === undefined) return { token, persisted: false };
    // Not when a worker is free: the previous refresh token may be dead already.
    try {
      await this.#persist(id, connection, rotated, request.seed);
      return { token, persisted: true };
    } catch {
      // Kept in #unpersisted: the reconcile that publishes this token writes it first, or fails.
      return { token, persisted: false };
    }
  }

  async #publishToken(
    id: string,
    observed: Observed,
    request: TokenToRequest,
    settled: Settled,
    env: PolicyEnv,
    context: ReconcileContext,
  ): Promise<Omit<Ending, 'expiring'>> {
    const { connection } = observed;
    const { now, recordKey: key } = env;
    if (!settled.ok) {
      const { error } = settled;
      if (!(error instanceof CoffreError)) throw error;
      const failure = judgeFailure(observed, request, error, now, this.#deps.random);
      this.#retries.set(id, failure.retry);
      this.#deps.observer?.refreshed?.(connection, 'failure', failure.reason);
      return { outcome: failure.outcome, target: observed.target, requeueAfterMs: failure.requeueAfterMs };
    }
    const { token } = settled;
    this.#retries.delete(id);
    const verdict = judgeToken(observed, request, token, key);
    if (verdict.persist !== undefined && !settled.persisted) {
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
    current: VaultConnectionStatus | undefined,
  ): Promise<ReconcileResult | undefined> {
    const { connection } = observed;
    const { now } = env;
    const record = publishedRecord(connection, ending.target, env.recordKey);
    const status = desiredStatus(current, {
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
    const report = await reportStatus(
      this.#deps,
      REPORT,
      { metadata: connection.metadata, status: current },
      status,
      context.signal,
    );
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

/** Why a token is about to be requested, as Reconciling says it. */
function requestCause(published: PublishedRecord | undefined, requestHash: string): HealthCause {
  if (published === undefined) return { reason: Reason.Reconciling, message: 'requesting a first token' };
  if (published.requestHash !== requestHash) {
    return {
      reason: Reason.Reconciling,
      message: 'requesting a token for the changed spec or credentials',
    };
  }
  const until = published.expiresAt === undefined ? '' : `, valid until ${formatTime(published.expiresAt)}`;
  return { reason: Reason.Renewing, message: `renewing the published token${until}` };
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

function idOf(connection: VaultConnection): string {
  return `${connection.metadata.namespace ?? ''}/${connection.metadata.name ?? ''}`;
}
