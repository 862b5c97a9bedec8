// The VaultConnection reconciler: gather (the connection, its Secret or OAuthClient, the target Secret
// from caches), decide (a provider's pure plan; whether the published token is still good), act (request
// a token, persist a rotated refresh token, write the target Secret, restart workloads), and report
// (status patched only when it changed, an Event per transition). The next renewal is requested
// through requeueAfter; nothing here sets a timer.
import type { V1Secret } from '@kubernetes/client-node';
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import { connectionTypes } from '../../api/v1alpha1/connection-types.ts';
import {
  CONNECTION_LABEL,
  FORCE_REFRESH_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  RESTARTED_FOR_ANNOTATION,
  STATE_ROLE_LABEL,
} from '../../api/v1alpha1/metadata-keys.ts';
import {
  API_VERSION,
  GROUP,
  VERSION,
  type OAuthClient,
  type VaultConnection,
} from '../../api/v1alpha1/resources.ts';
import { DEFAULT_TARGET_SUFFIX } from '../../api/v1alpha1/vault-connection.ts';
import { formatProblems, type Validators } from '../../api/validation.ts';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../controller/store.ts';
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from '../../controller/types.ts';
import { CoffreError } from '../../errors.ts';
import type { TokenEngine, TokenRequest, TokenSet } from '../../oauth/index.ts';
import type { Plan, ProvidersConfig, TokenPlan } from '../../providers/provider.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import { requestFingerprint } from '../../secrets/data-hash.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import { TemplateError } from '../../secrets/template.ts';
import { findCondition, transitions } from '../conditions.ts';
import type { EventRecorder, EventTarget } from '../../observability/events.ts';
import { isConflict, isNotFound, type KubePort } from '../../kube/kube-port.ts';
import { readClientConfig } from '../oauth-client/client-config.ts';
import type { WrittenView } from '../../kube/read-your-writes.ts';
import { decodeSecretData, type SecretReader } from '../../kube/secret-reader.ts';
import { nextRefreshAt, renewalWindowMs } from './refresh-schedule.ts';
import { desiredStatus, sameStatus, type Outcome } from './status.ts';
import {
  desiredTarget,
  isOwnedBy,
  ownerReference,
  readRecord,
  targetSecretObject,
  upToDate,
  type PublishedRecord,
} from './target-secret.ts';
import { reasonForTokenError } from './token-errors.ts';

export const VAULT_CONNECTIONS = { group: GROUP, version: VERSION, plural: 'vaultconnections' } as const;
export const STATE_SECRET_SUFFIX = '-coffre-state';
const SEED_HASH_ANNOTATION = 'coffre.dev/seed-hash';
const RETRY_BASE_MS = 2_000;
/** Conditions that are news when True: no Event for their normal False state (see transitions). */
const NORMALLY_FALSE: ReadonlySet<string> = new Set([ConditionType.Empty, ConditionType.Expired]);
const RETRY_MAX_MS = 5 * 60_000;

export interface VaultConnectionReconcilerDeps {
  /** The connections' cache, reading our own status writes. */
  connections: WrittenView<VaultConnection>;
  clients: Pick<Store<OAuthClient>, 'get'>;
  /** coffre's own Secrets (label-selected cache, with data), reading our own writes. */
  ownedSecrets: WrittenView<V1Secret>;
  secrets: SecretReader;
  port: KubePort;
  events: EventRecorder;
  engine: TokenEngine;
  providers: ProviderRegistry;
  providersConfig: ProvidersConfig;
  validators: Validators;
  clock: Clock;
  random: () => number;
  observer?: ConnectionObserver;
}

/** Hooks for metrics. */
export interface ConnectionObserver {
  refreshed?(connection: VaultConnection, result: 'success' | 'failure' | 'skipped', reason?: string): void;
  published?(connection: VaultConnection, expiresAt: number | undefined): void;
  conditions?(connection: VaultConnection, status: { ready: string; reason: string }): void;
  forgotten?(key: ObjectKey): void;
}

export function targetName(connection: VaultConnection): string {
  return connection.spec.target?.name ?? `${connection.metadata.name ?? ''}${DEFAULT_TARGET_SUFFIX}`;
}

function eventTarget(connection: VaultConnection): EventTarget {
  return {
    apiVersion: API_VERSION,
    kind: 'VaultConnection',
    namespace: connection.metadata.namespace ?? '',
    name: connection.metadata.name ?? '',
    uid: connection.metadata.uid ?? '',
  };
}

class TargetConflict extends Error {}

/** Consecutive failures and the earliest next attempt, per connection (kept in memory only). */
interface RetryState {
  failures: number;
  /** No new request before this moment (backoff, Retry-After); Infinity after a terminal error. */
  notBefore: number;
  /** The request that failed: a changed request (new credentials, spec, force) is tried at once. */
  requestHash: string;
  /** What the failure was, reported again while waiting. */
  reason: Reason;
  message: string;
}

export class VaultConnectionReconciler implements Reconciler {
  readonly #deps: VaultConnectionReconcilerDeps;
  readonly #retries = new Map<string, RetryState>();
  /** Rotated refresh tokens not yet persisted (the write failed): never lose one. */
  readonly #unpersisted = new Map<string, { refreshToken: SecretValue; seedHash: string }>();

  constructor(deps: VaultConnectionReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const connection = this.#deps.connections.get(`${key.namespace}/${key.name}`);
    if (connection === undefined) {
      // Deleted: the garbage collector removes the Secrets it owned.
      this.#retries.delete(`${key.namespace}/${key.name}`);
      this.#deps.observer?.forgotten?.(key);
      return undefined;
    }
    if (connection.metadata.deletionTimestamp !== undefined) return undefined;
    const run = new ConnectionRun(this.#deps, connection, context, this.#retries, this.#unpersisted);
    return run.reconcile();
  }
}

/** One reconcile of one connection. */
class ConnectionRun {
  readonly #deps: VaultConnectionReconcilerDeps;
  readonly #connection: VaultConnection;
  readonly #context: ReconcileContext;
  readonly #retries: Map<string, RetryState>;
  readonly #unpersisted: Map<string, { refreshToken: SecretValue; seedHash: string }>;
  readonly #key: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #now: number;
  readonly #targetName: string;
  #target: V1Secret | undefined;
  #staticPlan = false;
  /** Whether this reconcile wrote a Secret (for the log line). */
  #wrote = false;

  constructor(
    deps: VaultConnectionReconcilerDeps,
    connection: VaultConnection,
    context: ReconcileContext,
    retries: Map<string, RetryState>,
    unpersisted: Map<string, { refreshToken: SecretValue; seedHash: string }>,
  ) {
    this.#deps = deps;
    this.#connection = connection;
    this.#context = context;
    this.#retries = retries;
    this.#unpersisted = unpersisted;
    this.#namespace = connection.metadata.namespace ?? '';
    this.#name = connection.metadata.name ?? '';
    this.#key = `${this.#namespace}/${this.#name}`;
    this.#now = deps.clock.now();
    this.#targetName = targetName(connection);
    this.#target = deps.ownedSecrets.get(`${this.#namespace}/${this.#targetName}`);
  }

  /** Whether this connection publishes expiring tokens; a variant type knows once its plan is made. */
  #expiring(): boolean {
    return this.#staticPlan ? false : connectionTypes[this.#connection.spec.type].tokens !== 'never';
  }

  get #record(): PublishedRecord | undefined {
    return this.#target !== undefined && isOwnedBy(this.#target, this.#connection)
      ? readRecord(this.#target)
      : undefined;
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    const validation = this.#deps.validators.vaultConnection(this.#connection);
    if (!validation.ok) {
      return this.#finish({ kind: 'invalid-spec', message: formatProblems(validation.problems) });
    }
    const crossNamespace = this.#crossNamespaceReference();
    if (crossNamespace !== undefined) {
      return this.#finish({
        kind: 'blocked',
        reason: Reason.CrossNamespaceReference,
        message: crossNamespace,
        credentials: 'unknown',
      });
    }
    if (this.#target !== undefined && !isOwnedBy(this.#target, this.#connection)) {
      return this.#finish(this.#conflict());
    }
    const gathered = await this.#gather();
    if ('outcome' in gathered) return this.#finish(gathered.outcome);
    const { plan } = gathered;
    switch (plan.kind) {
      case 'missing':
        return this.#finish({
          kind: 'empty',
          reason: Reason.KeysMissing,
          message: this.#missingMessage(plan.keys, plan.variant),
        });
      case 'invalid':
        return this.#finish({
          kind: 'blocked',
          reason: Reason.InvalidCredentials,
          message: plan.message,
          credentials: 'present',
        });
      case 'static':
        this.#staticPlan = true;
        return this.#publishStatic(plan.data);
      case 'token':
        return this.#publishToken(plan, gathered.seed);
    }
  }

  // --- gather ----------------------------------------------------------------------------------

  #crossNamespaceReference(): string | undefined {
    for (const field of ['credentialsRef', 'oauthClientRef'] as const) {
      const ref = this.#connection.spec[field];
      if (ref?.namespace !== undefined && ref.namespace !== this.#namespace) {
        return `spec.${field}.namespace ${ref.namespace} differs from the connection's namespace ${this.#namespace}: references to other namespaces are refused`;
      }
    }
    return undefined;
  }

  #conflict(): Outcome {
    return {
      kind: 'blocked',
      reason: Reason.TargetSecretConflict,
      message: `Secret ${this.#targetName} exists and is not owned by this connection; coffre never adopts or overwrites it: choose another spec.target.name or delete that Secret`,
      credentials: 'unknown',
    };
  }

  #missingMessage(keys: string[], variant: string): string {
    const ref = this.#connection.spec.credentialsRef?.name;
    if (keys.length === 0)
      return 'spec.oauthClientRef is not set: the connection is empty until it names an OAuthClient';
    return `Secret ${ref ?? ''} lacks ${keys.length === 1 ? 'the key' : 'the keys'} ${keys.join(', ')} (or they are blank) for credentials of kind ${variant}`;
  }

  async #gather(): Promise<{ outcome: Outcome } | { plan: Plan; seed: SecretValue | undefined }> {
    const { spec } = this.#connection;
    const { secrets, providers, providersConfig } = this.#deps;
    const info = connectionTypes[spec.type];
    let credentials: ReadonlyMap<string, SecretValue> = new Map();
    if (spec.credentialsRef !== undefined) {
      const read = await secrets.read(this.#namespace, spec.credentialsRef.name);
      if (!read.found) {
        return {
          outcome: {
            kind: 'empty',
            reason: Reason.SecretNotFound,
            message: `Secret ${spec.credentialsRef.name} not found`,
          },
        };
      }
      credentials = read.data;
    } else if (
      spec.oauthClientRef === undefined &&
      info.variants.length > 0 &&
      info.oauthClient !== 'required'
    ) {
      return {
        outcome: {
          kind: 'empty',
          reason: Reason.NoCredentialsRef,
          message: 'spec.credentialsRef is not set: the connection is empty until credentials are supplied',
        },
      };
    }
    let oauthClient;
    if (spec.oauthClientRef !== undefined) {
      const client = this.#deps.clients.get(`${this.#namespace}/${spec.oauthClientRef.name}`);
      if (client === undefined) {
        return {
          outcome: {
            kind: 'empty',
            reason: Reason.OAuthClientNotFound,
            message: `OAuthClient ${spec.oauthClientRef.name} not found`,
          },
        };
      }
      const config = await readClientConfig(client, secrets);
      if (config.kind === 'empty') {
        return {
          outcome: {
            kind: 'empty',
            reason: Reason.OAuthClientEmpty,
            message: `OAuthClient ${spec.oauthClientRef.name} has no credentials yet: ${config.message}`,
          },
        };
      }
      if (config.kind === 'cross-namespace') {
        return {
          outcome: {
            kind: 'blocked',
            reason: Reason.OAuthClientNotReady,
            message: `OAuthClient ${spec.oauthClientRef.name}: ${config.message}`,
            credentials: 'unknown',
          },
        };
      }
      oauthClient = config.config;
    } else if (info.oauthClient === 'required') {
      return {
        outcome: {
          kind: 'empty',
          reason: Reason.NoCredentialsRef,
          message: `spec.oauthClientRef is not set: a ${spec.type} connection is empty until it names an OAuthClient`,
        },
      };
    }
    // A refresh token in the credentials Secret is the seed; coffre's state Secret holds its rotations.
    const seed = credentials.get('refreshToken');
    const rotated = this.#rotatedRefreshToken(seed);
    const plan = providers[spec.type].plan({
      spec,
      credentials,
      ...(oauthClient === undefined ? {} : { oauthClient }),
      ...(rotated === undefined ? {} : { rotatedRefreshToken: rotated }),
      config: providersConfig,
    });
    return { plan, seed };
  }

  #seedHash(seed: SecretValue | undefined): string {
    return requestFingerprint(this.#connection.metadata.uid ?? '', ['seed', seed]);
  }

  #stateName(): string {
    return `${this.#name}${STATE_SECRET_SUFFIX}`;
  }

  /** The latest rotation of the seed refresh token, unless the seed itself changed (re-authorisation). */
  #rotatedRefreshToken(seed: SecretValue | undefined): SecretValue | undefined {
    if (seed === undefined) return undefined;
    const seedHash = this.#seedHash(seed);
    const pending = this.#unpersisted.get(this.#key);
    if (pending?.seedHash === seedHash) return pending.refreshToken;
    const state = this.#deps.ownedSecrets.get(`${this.#namespace}/${this.#stateName()}`);
    if (state === undefined || !isOwnedBy(state, this.#connection)) return undefined;
    if (state.metadata?.annotations?.[SEED_HASH_ANNOTATION] !== seedHash) return undefined;
    return decodeSecretData(state).get('refresh_token');
  }

  // --- act -------------------------------------------------------------------------------------

  async #publishStatic(published: ReadonlyMap<string, SecretValue>): Promise<ReconcileResult | undefined> {
    const outcome = await this.#write(published, {});
    return this.#finish(outcome ?? { kind: 'static-published' });
  }

  #requestHash(plan: TokenPlan, seed: SecretValue | undefined): string {
    const { request } = plan;
    const client = request.client;
    return requestFingerprint(this.#connection.metadata.uid ?? '', [
      JSON.stringify(this.#connection.spec),
      plan.variant,
      client.issuer,
      client.tokenEndpoint,
      client.authMethod,
      client.clientId,
      client.clientSecret,
      client.privateKey?.pem,
      client.privateKey?.keyId,
      request.grant.type,
      seed,
    ]);
  }

  #renewalSettings() {
    return this.#connection.spec.refresh;
  }

  #scheduleFor(record: PublishedRecord): number | undefined {
    if (record.issuedAt === undefined || record.expiresAt === undefined) return undefined;
    return nextRefreshAt({
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
      settings: this.#renewalSettings(),
      jitterSeed: `${this.#connection.metadata.uid ?? ''}/${record.issuedAt}`,
    });
  }

  async #publishToken(plan: TokenPlan, seed: SecretValue | undefined): Promise<ReconcileResult | undefined> {
    const requestHash = this.#requestHash(plan, seed);
    const forceValue = this.#connection.metadata.annotations?.[FORCE_REFRESH_ANNOTATION];
    const record = this.#record;
    const forced =
      forceValue !== undefined && forceValue !== '' && forceValue !== record?.forceRefreshHandled;

    // The published token is still good: nothing to request, nothing to write (a quiet restart).
    if (record !== undefined && record.requestHash === requestHash && !forced) {
      const refreshAt = this.#scheduleFor(record);
      const fresh = record.expiresAt === undefined || refreshAt === undefined || refreshAt > this.#now;
      if (fresh) {
        this.#retries.delete(this.#key);
        this.#seedShared(plan, record);
        return this.#finish({ kind: 'token-valid' }, refreshAt);
      }
    }

    const retry = this.#retries.get(this.#key);
    if (retry !== undefined && retry.requestHash === requestHash && !forced && retry.notBefore > this.#now) {
      // Still waiting out a backoff or a Retry-After (or for a change after a terminal error): report
      // the failure again, and come back then.
      return this.#finish(
        { kind: 'token-failed', reason: retry.reason, message: retry.message },
        undefined,
        Number.isFinite(retry.notBefore) ? retry.notBefore - this.#now : undefined,
      );
    }

    let token: TokenSet;
    try {
      token = await this.#requestToken(plan.request, record, forced);
    } catch (error) {
      return this.#tokenFailure(error, record, requestHash);
    }
    this.#retries.delete(this.#key);

    if (token.refreshToken !== undefined && plan.request.grant.type === 'refresh_token') {
      // Rotation: persist the new refresh token before the new access token is used anywhere.
      await this.#persistRotation(token.refreshToken, seed);
    }

    const scopeOutcome = this.#checkScopes(plan.request, token, record);
    if (scopeOutcome !== undefined) return this.#finish(scopeOutcome);

    const published = plan.publish(token);
    const newRecord: Omit<PublishedRecord, 'dataHash'> = {
      requestHash,
      issuedAt: token.issuedAt,
      ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }),
      ...(token.grantedScopes === undefined ? {} : { grantedScopes: token.grantedScopes }),
      ...(forceValue === undefined ? {} : { forceRefreshHandled: forceValue }),
    };
    const outcome = await this.#write(published, newRecord);
    if (outcome !== undefined) return this.#finish(outcome);
    this.#deps.observer?.refreshed?.(this.#connection, 'success');
    const written = this.#record;
    return this.#finish(
      { kind: 'token-valid' },
      written === undefined ? undefined : this.#scheduleFor(written),
    );
  }

  async #requestToken(
    request: TokenRequest,
    record: PublishedRecord | undefined,
    force: boolean,
  ): Promise<TokenSet> {
    const { engine, clock } = this.#deps;
    const settings = this.#renewalSettings();
    const lifetime =
      record?.issuedAt !== undefined && record.expiresAt !== undefined
        ? record.expiresAt - record.issuedAt
        : undefined;
    // A shared token is reused only if it outlives this connection's renewal window.
    const minTtlMs = lifetime === undefined ? 0 : renewalWindowMs(lifetime, settings) + 1000;
    const asked = clock.now();
    let token = await engine.getToken(request, { minTtlMs, force });
    const refreshAt =
      token.expiresAt === undefined
        ? undefined
        : nextRefreshAt({
            issuedAt: token.issuedAt,
            expiresAt: token.expiresAt,
            settings,
            jitterSeed: `${this.#connection.metadata.uid ?? ''}/${token.issuedAt}`,
          });
    if (!force && token.issuedAt < asked && refreshAt !== undefined && refreshAt <= clock.now()) {
      // The shared cache handed out a token already due for renewal here: ask for a fresh one.
      token = await engine.getToken(request, { minTtlMs: 0, force: true });
    }
    return token;
  }

  #seedShared(plan: TokenPlan, record: PublishedRecord): void {
    // After a restart, let connections that share this token reuse it instead of minting their own.
    const data = this.#target === undefined ? undefined : decodeSecretData(this.#target);
    const accessToken = data?.get('access_token');
    if (accessToken === undefined || record.issuedAt === undefined) return;
    this.#deps.engine.seed(plan.request, {
      accessToken,
      tokenType: data?.get('token_type')?.reveal() ?? 'Bearer',
      issuedAt: record.issuedAt,
      ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
      ...(record.grantedScopes === undefined ? {} : { grantedScopes: record.grantedScopes }),
    });
  }

  async #persistRotation(refreshToken: SecretValue, seed: SecretValue | undefined): Promise<void> {
    const seedHash = this.#seedHash(seed);
    this.#unpersisted.set(this.#key, { refreshToken, seedHash });
    const name = this.#stateName();
    const existing = this.#deps.ownedSecrets.get(`${this.#namespace}/${name}`);
    const body: V1Secret = {
      metadata: {
        name,
        namespace: this.#namespace,
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
          [CONNECTION_LABEL]: this.#name,
          [STATE_ROLE_LABEL]: 'refresh-token',
        },
        annotations: { [SEED_HASH_ANNOTATION]: seedHash },
        ownerReferences: [ownerReference(this.#connection)],
      },
      type: 'Opaque',
      data: { refresh_token: Buffer.from(refreshToken.reveal(), 'utf8').toString('base64') },
    };
    if (existing !== undefined && !isOwnedBy(existing, this.#connection)) {
      throw new CoffreError('state_conflict', `Secret ${name} exists and is not owned by this connection`, {
        retryable: false,
      });
    }
    if (existing === undefined)
      this.#deps.ownedSecrets.wrote(await this.#deps.port.createSecret(this.#namespace, body));
    else {
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion ?? '' };
      this.#deps.ownedSecrets.wrote(await this.#deps.port.replaceSecret(this.#namespace, body));
    }
    this.#unpersisted.delete(this.#key);
  }

  #checkScopes(
    request: TokenRequest,
    token: TokenSet,
    record: PublishedRecord | undefined,
  ): Outcome | undefined {
    const requested = request.scopes;
    const granted = token.grantedScopes;
    if (requested === undefined || granted === undefined) return undefined;
    const extra = granted.filter((scope) => !requested.includes(scope));
    if (extra.length === 0) return undefined;
    const message = `the server granted scopes beyond those requested: ${extra.join(' ')}`;
    const previouslyExtra = (record?.grantedScopes ?? []).filter((scope) => !requested.includes(scope));
    if (previouslyExtra.join(' ') !== extra.join(' ')) {
      this.#deps.events.record(eventTarget(this.#connection), 'Warning', Reason.ScopesExceeded, message);
    }
    const strict =
      this.#connection.spec.auth0?.strictScopes ?? this.#connection.spec.oauth2?.strictScopes ?? false;
    if (!strict) return undefined;
    return {
      kind: 'blocked',
      reason: Reason.ScopesExceeded,
      message: `${message}; strictScopes is set, so the token was not published`,
      credentials: 'present',
    };
  }

  #tokenFailure(
    error: unknown,
    record: PublishedRecord | undefined,
    requestHash: string,
  ): Promise<ReconcileResult | undefined> {
    if (!(error instanceof CoffreError)) throw error;
    const reason = reasonForTokenError(error.code);
    const previous = this.#retries.get(this.#key);
    const failures = (previous?.failures ?? 0) + 1;
    this.#deps.observer?.refreshed?.(this.#connection, 'failure', reason);
    const untilExpiry =
      record?.expiresAt !== undefined && record.expiresAt > this.#now
        ? record.expiresAt - this.#now
        : undefined;
    let delay: number | undefined;
    if (error.retryable) {
      const exponential = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
      delay = Math.round(exponential / 2 + (exponential / 2) * this.#deps.random());
      delay = Math.max(delay, Math.min(error.retryAfterMs ?? 0, 6 * 3_600_000));
      this.#retries.set(this.#key, {
        failures,
        notBefore: this.#now + delay,
        requestHash,
        reason,
        message: error.message,
      });
    } else {
      // A human must act: wait for a change of the request (credentials, spec, force-refresh).
      this.#retries.set(this.#key, {
        failures,
        notBefore: Number.POSITIVE_INFINITY,
        requestHash,
        reason,
        message: error.message,
      });
    }
    // Come back when the published token expires, to report Expired on time.
    const requeue = [delay, untilExpiry].filter((ms): ms is number => ms !== undefined);
    return this.#finish(
      { kind: 'token-failed', reason, message: error.message },
      undefined,
      requeue.length === 0 ? undefined : Math.min(...requeue),
    );
  }

  /** Writes the target Secret if it differs; returns an outcome only when publishing is impossible. */
  async #write(
    published: ReadonlyMap<string, SecretValue>,
    record: Omit<PublishedRecord, 'dataHash'>,
  ): Promise<Outcome | undefined> {
    const template = this.#connection.spec.target?.template;
    let desired;
    try {
      desired = desiredTarget(this.#targetName, published, template, record);
    } catch (error) {
      if (error instanceof TemplateError) {
        return {
          kind: 'blocked',
          reason: Reason.TemplateError,
          message: error.message,
          credentials: 'present',
        };
      }
      throw error;
    }
    const previous = this.#record;
    const wanted = targetSecretObject(this.#connection, desired, template, this.#target);
    if (upToDate(this.#target, wanted)) return undefined;
    if (this.#target?.type !== undefined && this.#target.type !== wanted.type) {
      // The API server never changes a Secret's type in place; coffre does not delete Secrets.
      return {
        kind: 'blocked',
        reason: Reason.TemplateError,
        message: `spec.target.template.type ${wanted.type ?? ''} differs from the type of the existing Secret ${this.#targetName} (${this.#target.type}), which cannot change: delete that Secret and coffre recreates it`,
        credentials: 'present',
      };
    }
    this.#context.signal.throwIfAborted();
    try {
      this.#target =
        this.#target === undefined
          ? await this.#createTarget(wanted)
          : await this.#deps.port.replaceSecret(this.#namespace, wanted);
    } catch (error) {
      if (error instanceof TargetConflict) return this.#conflict();
      throw error;
    }
    this.#deps.ownedSecrets.wrote(this.#target);
    this.#wrote = true;
    this.#deps.observer?.published?.(this.#connection, record.expiresAt);
    if (previous !== undefined && previous.dataHash !== desired.dataHash)
      await this.#restartWorkloads(desired.dataHash);
    return undefined;
  }

  /**
   * Creates the target Secret. If one appeared meanwhile (our cache lagging), take it over only if it
   * is ours; anything else is a conflict.
   */
  async #createTarget(wanted: V1Secret): Promise<V1Secret> {
    try {
      return await this.#deps.port.createSecret(this.#namespace, wanted);
    } catch (error) {
      if (!isConflict(error)) throw error;
      const live = await this.#deps.port.getSecret(this.#namespace, this.#targetName);
      if (live === undefined || !isOwnedBy(live, this.#connection)) throw new TargetConflict();
      return this.#deps.port.replaceSecret(this.#namespace, {
        ...wanted,
        metadata: { ...wanted.metadata, resourceVersion: live.metadata?.resourceVersion ?? '' },
      });
    }
  }

  async #restartWorkloads(hash: string): Promise<void> {
    for (const workload of this.#connection.spec.rolloutRestartTargets ?? []) {
      try {
        await this.#deps.port.annotatePodTemplate(workload.kind, this.#namespace, workload.name, {
          [RESTARTED_FOR_ANNOTATION]: hash.slice(0, 16),
        });
        this.#deps.events.record(
          eventTarget(this.#connection),
          'Normal',
          'RolloutRestarted',
          `restarted ${workload.kind} ${workload.name}: the published data changed`,
        );
      } catch (error) {
        const why = isNotFound(error) ? 'not found' : error instanceof Error ? error.message : String(error);
        this.#deps.events.record(
          eventTarget(this.#connection),
          'Warning',
          Reason.RolloutRestartFailed,
          `could not restart ${workload.kind} ${workload.name}: ${why}`,
        );
      }
    }
  }

  // --- report ----------------------------------------------------------------------------------

  async #finish(
    outcome: Outcome,
    refreshAt?: number,
    requeueAfterMs?: number,
  ): Promise<ReconcileResult | undefined> {
    const record = this.#record;
    const status = desiredStatus(this.#connection.status, {
      generation: this.#connection.metadata.generation ?? 0,
      outcome,
      record,
      secretName: this.#targetName,
      expiring: this.#expiring(),
      ...(refreshAt === undefined ? {} : { nextRefreshAt: refreshAt }),
      now: this.#now,
    });
    const statusChanged = !sameStatus(status, this.#connection.status);
    if (statusChanged) {
      this.#context.signal.throwIfAborted();
      const patched = await this.#deps.port.patchStatus(
        VAULT_CONNECTIONS,
        this.#namespace,
        this.#name,
        status,
      );
      this.#deps.connections.wrote(patched as VaultConnection);
      for (const { condition } of transitions(
        this.#connection.status?.conditions,
        status.conditions ?? [],
        NORMALLY_FALSE,
      )) {
        const warning =
          (condition.type === ConditionType.Ready && condition.status !== 'True') ||
          (condition.type === ConditionType.Expired && condition.status === 'True');
        this.#deps.events.record(
          eventTarget(this.#connection),
          warning ? 'Warning' : 'Normal',
          condition.reason,
          `${condition.type}=${condition.status}: ${condition.message}`,
        );
      }
    }
    const ready = findCondition(status.conditions, ConditionType.Ready);
    this.#deps.observer?.conditions?.(this.#connection, {
      ready: ready?.status ?? 'Unknown',
      reason: ready?.reason ?? '',
    });
    // One line per reconcile: info when something changed, debug for a no-op.
    const changed = this.#wrote || statusChanged;
    this.#context.logger[changed ? 'info' : 'debug'](
      {
        type: this.#connection.spec.type,
        ready: ready?.status,
        reason: ready?.reason,
        wrote: this.#wrote,
        durationMs: this.#deps.clock.now() - this.#now,
      },
      'reconciled',
    );
    const waits = [refreshAt === undefined ? undefined : Math.max(0, refreshAt - this.#now), requeueAfterMs];
    // A token-type connection without a scheduled renewal still needs a look when its token expires.
    if (outcome.kind !== 'token-valid' && record?.expiresAt !== undefined && record.expiresAt > this.#now) {
      waits.push(record.expiresAt - this.#now);
    }
    const defined = waits.filter((ms): ms is number => ms !== undefined);
    return defined.length === 0 ? undefined : { requeueAfterMs: Math.min(...defined) };
  }
}
