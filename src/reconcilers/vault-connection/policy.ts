// Policy: what to do with a connection, as pure functions of the gathered snapshot and the time (after
// cert-manager's certificates policies). Nothing here reads a cache, calls a server or keeps state, so
// every decision is a row in a table test (test/unit/reconcilers/vault-connection-policy.test.ts).
import type { V1Secret } from '@kubernetes/client-node';
import { Reason } from '../../api/v1alpha1/conditions.ts';
import { connectionTypes } from '../../connection-types/definitions.ts';
import { FORCE_REFRESH_ANNOTATION } from '../../api/v1alpha1/metadata-keys.ts';
import type { VaultConnection } from '../../api/v1alpha1/resources.ts';
import {
  DEFAULT_ROLLOUT_RESTART_POLICY,
  DEFAULT_TARGET_SUFFIX,
} from '../../api/v1alpha1/vault-connection.ts';
import { formatProblems } from '../../api/validation.ts';
import type { CoffreError } from '../../errors.ts';
import { decodeSecretData } from '../../kube/secret-reader.ts';
import type { TokenRequest, TokenSet } from '../../oauth/index.ts';
import type { Plan, ProvidersConfig, TokenPlan } from '../../providers/provider.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import { requestFingerprint } from '../../secrets/data-hash.ts';
import type { RecordKey } from '../../secrets/record-key.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import { TemplateError, TemplateTooLargeError } from '../../secrets/template.ts';
import type { Observed, RetryState } from './gather.ts';
import { nextRefreshAt, renewalWindowMs } from './refresh-schedule.ts';
import { rotatedRefreshToken } from './state-secret.ts';
import type { Outcome } from './status.ts';
import {
  desiredTarget,
  isOwnedBy,
  restartedForValue,
  targetSecretObject,
  trustedRecord,
  upToDate,
  type PublishedRecord,
} from './target-secret.ts';
import { reasonForTokenError } from './token-errors.ts';

export const RETRY_BASE_MS = 2_000;
/** The most data (keys and values, in bytes) a target Secret gets; a template can copy a value many times. */
export const MAX_TARGET_DATA_BYTES = 1024 * 1024;
export const RETRY_MAX_MS = 5 * 60_000;
/** Retry-After is honoured up to this long; a server asking for more is not waited for. */
const MAX_RETRY_AFTER_MS = 6 * 3_600_000;

export interface PolicyEnv {
  now: number;
  providers: ProviderRegistry;
  providersConfig: ProvidersConfig;
  /** Signs what coffre records on a target Secret, and verifies it before trusting it. */
  recordKey: RecordKey;
}

/** What to request, and how to tell the shared token cache. */
export interface TokenToRequest {
  plan: TokenPlan;
  requestHash: string;
  /** Bypass the shared cache: the force-refresh annotation has a value not handled yet. */
  force: boolean;
  /** A shared token is reused only if it outlives this connection's renewal window. */
  minTtlMs: number;
  /** The force-refresh annotation's value, recorded once the new token is published. */
  forceValue: string | undefined;
  /** The refresh token in the credentials Secret, which a rotation is persisted against. */
  seed: SecretValue | undefined;
  /** The keyed digest of requestHash a failure is recorded under (retryDigest). */
  requestDigest: string;
}

export type Decision =
  /** Nothing to publish: report why (invalid spec, empty, blocked). */
  | { kind: 'report'; outcome: Outcome }
  /** `forceValue`: the force-refresh annotation, recorded on the target as handled. */
  | {
      kind: 'publish-static';
      data: ReadonlyMap<string, SecretValue>;
      retiring?: string;
      forceValue: string | undefined;
    }
  /** The published token is good until refreshAt: request and write nothing (a quiet restart). */
  | {
      kind: 'reuse';
      refreshAt: number | undefined;
      share: { request: TokenRequest; token: TokenSet } | undefined;
    }
  /** A failed request is still waiting out its backoff (or, after a terminal error, for a change). */
  | { kind: 'wait'; outcome: Outcome; requeueAfterMs: number | undefined }
  | { kind: 'request'; token: TokenToRequest };

export function targetName(connection: VaultConnection): string {
  return connection.spec.target?.name ?? `${connection.metadata.name ?? ''}${DEFAULT_TARGET_SUFFIX}`;
}

/** What the target Secret says it holds, if the Secret is this connection's and coffre's signature holds. */
export function publishedRecord(
  connection: VaultConnection,
  target: V1Secret | undefined,
  key: RecordKey,
): PublishedRecord | undefined {
  return target !== undefined && isOwnedBy(target, connection)
    ? trustedRecord(target, connection, key)
    : undefined;
}

export function targetConflict(targetName: string): Outcome {
  return {
    kind: 'blocked',
    reason: Reason.TargetSecretConflict,
    message: `Secret ${targetName} exists and is not owned by this connection; coffre never adopts or overwrites it: choose another spec.target.name or delete that Secret`,
    credentials: 'unknown',
  };
}

/** Refusals that need none of the connection's references: an invalid spec, another namespace, a foreign target. */
export function preflight(
  observed: Pick<Observed, 'connection' | 'validation' | 'target' | 'targetName'>,
): Outcome | undefined {
  const { connection, validation, target } = observed;
  if (!validation.ok) return { kind: 'invalid-spec', message: formatProblems(validation.problems) };
  const namespace = connection.metadata.namespace ?? '';
  for (const field of ['credentialsRef', 'oauthClientRef'] as const) {
    const ref = connection.spec[field];
    if (ref?.namespace !== undefined && ref.namespace !== namespace) {
      return {
        kind: 'blocked',
        reason: Reason.CrossNamespaceReference,
        message: `spec.${field}.namespace ${ref.namespace} differs from the connection's namespace ${namespace}: references to other namespaces are refused`,
        credentials: 'unknown',
      };
    }
  }
  if (target !== undefined && !isOwnedBy(target, connection)) return targetConflict(observed.targetName);
  return undefined;
}

/** Whether the connection publishes expiring tokens; a type with variants knows once its plan is made. */
export function publishesExpiringTokens(connection: VaultConnection, decision: Decision): boolean {
  return decision.kind === 'publish-static'
    ? false
    : connectionTypes[connection.spec.type].tokens !== 'never';
}

function missingMessage(connection: VaultConnection, keys: string[], variant: string): string {
  if (keys.length === 0)
    return 'spec.oauthClientRef is not set: the connection is empty until it names an OAuthClient';
  return `Secret ${connection.spec.credentialsRef?.name ?? ''} lacks ${keys.length === 1 ? 'the key' : 'the keys'} ${keys.join(', ')} (or they are blank) for credentials of kind ${variant}`;
}

/** The provider's plan from the gathered credentials, or why there can be none yet. */
export function planFor(
  observed: Observed,
  env: PolicyEnv,
): { outcome: Outcome } | { plan: Plan; seed: SecretValue | undefined } {
  const { connection } = observed;
  const { spec } = connection;
  const info = connectionTypes[spec.type];
  const credentials = observed.sources?.credentials;
  const client = observed.sources?.oauthClient;
  if (credentials?.found === false) {
    return {
      outcome: {
        kind: 'empty',
        reason: Reason.SecretNotFound,
        message: `Secret ${spec.credentialsRef?.name ?? ''} not found`,
      },
    };
  }
  if (
    spec.credentialsRef === undefined &&
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
  const clientName = spec.oauthClientRef?.name ?? '';
  if (client?.found === false) {
    return {
      outcome: {
        kind: 'empty',
        reason: Reason.OAuthClientNotFound,
        message: `OAuthClient ${clientName} not found`,
      },
    };
  }
  if (client?.config.kind === 'empty') {
    return {
      outcome: {
        kind: 'empty',
        reason: Reason.OAuthClientEmpty,
        message: `OAuthClient ${clientName} has no credentials yet: ${client.config.message}`,
      },
    };
  }
  if (client?.config.kind === 'cross-namespace') {
    return {
      outcome: {
        kind: 'blocked',
        reason: Reason.OAuthClientNotReady,
        message: `OAuthClient ${clientName}: ${client.config.message}`,
        credentials: 'unknown',
      },
    };
  }
  if (spec.oauthClientRef === undefined && info.oauthClient === 'required') {
    return {
      outcome: {
        kind: 'empty',
        reason: Reason.NoCredentialsRef,
        message: `spec.oauthClientRef is not set: a ${spec.type} connection is empty until it names an OAuthClient`,
      },
    };
  }
  const data = credentials?.found === true ? credentials.data : new Map<string, SecretValue>();
  // A refresh token in the credentials Secret is the seed; coffre's state Secret holds its rotations.
  const seed = data.get('refreshToken');
  const rotated = rotatedRefreshToken(connection, seed, observed.state, observed.pendingRotation);
  const plan = env.providers[spec.type].plan({
    spec,
    credentials: data,
    ...(client?.config.kind === 'ready' ? { oauthClient: client.config.config } : {}),
    ...(rotated === undefined ? {} : { rotatedRefreshToken: rotated }),
    config: env.providersConfig,
  });
  if (plan.kind !== 'token') return { plan, seed };
  // Tokens are shared only within the namespace: never handed to, nor seeded by, another tenant.
  const partition = connection.metadata.namespace ?? '';
  return { plan: { ...plan, request: { ...plan.request, partition } }, seed };
}

/** Everything a token was requested with: a change of any of these makes the published token stale. */
export function requestHash(
  connection: VaultConnection,
  plan: TokenPlan,
  seed: SecretValue | undefined,
): string {
  const { client, grant } = plan.request;
  return requestFingerprint(connection.metadata.uid ?? '', [
    JSON.stringify(connection.spec),
    plan.variant,
    client.issuer,
    client.tokenEndpoint,
    client.authMethod,
    client.clientId,
    client.clientSecret,
    client.privateKey?.pem,
    client.privateKey?.keyId,
    grant.type,
    seed,
  ]);
}

/** When to renew a token issued at issuedAt, expiring at expiresAt, for this connection. */
export function refreshAtFor(connection: VaultConnection, issuedAt: number, expiresAt: number): number {
  return nextRefreshAt({
    issuedAt,
    expiresAt,
    settings: connection.spec.refresh,
    jitterSeed: `${connection.metadata.uid ?? ''}/${issuedAt}`,
  });
}

/** When to renew the published token; undefined if it does not say when it expires. */
export function scheduleFor(
  connection: VaultConnection,
  record: PublishedRecord | undefined,
): number | undefined {
  if (record?.issuedAt === undefined || record.expiresAt === undefined) return undefined;
  return refreshAtFor(connection, record.issuedAt, record.expiresAt);
}

/** The published token, for connections that share it (after a restart the shared cache is empty). */
function sharedToken(observed: Observed, record: PublishedRecord): TokenSet | undefined {
  const data = observed.target === undefined ? undefined : decodeSecretData(observed.target);
  const accessToken = data?.get('access_token');
  if (accessToken === undefined || record.issuedAt === undefined) return undefined;
  return {
    accessToken,
    tokenType: data?.get('token_type')?.reveal() ?? 'Bearer',
    issuedAt: record.issuedAt,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    ...(record.grantedScopes === undefined ? {} : { grantedScopes: record.grantedScopes }),
  };
}

/** The force-refresh annotation, if set to something. */
export function forceRefreshValue(connection: VaultConnection): string | undefined {
  const value = connection.metadata.annotations?.[FORCE_REFRESH_ANNOTATION];
  return value === undefined || value === '' ? undefined : value;
}

/** The decision for one reconcile. */
export function decide(observed: Observed, env: PolicyEnv): Decision {
  const refused = preflight(observed);
  if (refused !== undefined) return { kind: 'report', outcome: refused };
  const planned = planFor(observed, env);
  if ('outcome' in planned) return { kind: 'report', outcome: planned.outcome };
  const { plan, seed } = planned;
  switch (plan.kind) {
    case 'missing':
      return {
        kind: 'report',
        outcome: {
          kind: 'empty',
          reason: Reason.KeysMissing,
          message: missingMessage(observed.connection, plan.keys, plan.variant),
        },
      };
    case 'invalid':
      return {
        kind: 'report',
        outcome: {
          kind: 'blocked',
          reason: Reason.InvalidCredentials,
          message: plan.message,
          credentials: 'present',
        },
      };
    case 'static':
      return {
        kind: 'publish-static',
        data: plan.data,
        forceValue: forceRefreshValue(observed.connection),
        ...(plan.retiring === undefined ? {} : { retiring: plan.retiring }),
      };
    case 'token':
      return decideToken(observed, env, plan, seed);
  }
}

function decideToken(
  observed: Observed,
  env: PolicyEnv,
  plan: TokenPlan,
  seed: SecretValue | undefined,
): Decision {
  const { now } = env;
  const { connection, retry } = observed;
  const hash = requestHash(connection, plan, seed);
  const forceValue = connection.metadata.annotations?.[FORCE_REFRESH_ANNOTATION];
  const record = publishedRecord(connection, observed.target, env.recordKey);
  const force = forceValue !== undefined && forceValue !== '' && forceValue !== record?.forceRefreshHandled;

  if (record !== undefined && record.requestHash === hash && !force) {
    const refreshAt = scheduleFor(connection, record);
    if (record.expiresAt === undefined || refreshAt === undefined || refreshAt > now) {
      const token = sharedToken(observed, record);
      return {
        kind: 'reuse',
        refreshAt,
        share: token === undefined ? undefined : { request: plan.request, token },
      };
    }
  }
  const digest = retryDigest(connection, hash, env.recordKey);
  if (retry !== undefined && retry.requestDigest === digest && !force && retry.notBefore > now) {
    return {
      kind: 'wait',
      outcome: { kind: 'token-failed', reason: retry.reason, message: retry.message, requestHash: hash },
      requeueAfterMs: Number.isFinite(retry.notBefore) ? retry.notBefore - now : undefined,
    };
  }
  const lifetime =
    record?.issuedAt !== undefined && record.expiresAt !== undefined
      ? record.expiresAt - record.issuedAt
      : undefined;
  return {
    kind: 'request',
    token: {
      plan,
      requestHash: hash,
      force,
      minTtlMs: lifetime === undefined ? 0 : renewalWindowMs(lifetime, connection.spec.refresh) + 1000,
      forceValue,
      seed,
      requestDigest: digest,
    },
  };
}

/**
 * What a failure is recorded under in status: the request hash keyed by the operator's record key (the
 * hash covers a digest of the credentials, which viewers of status must not get to guess at).
 */
export function retryDigest(connection: VaultConnection, hash: string, key: RecordKey): string {
  return key.mac('failed-request', [connection.metadata.uid ?? '', hash]).slice(0, 16);
}

/**
 * Whether the shared cache handed out a token already due for renewal here — one issued before this
 * connection asked: then a fresh one is requested.
 */
export function dueOnArrival(
  connection: VaultConnection,
  token: TokenSet,
  askedAt: number,
  now: number,
  force: boolean,
): boolean {
  if (force || token.issuedAt >= askedAt || token.expiresAt === undefined) return false;
  return refreshAtFor(connection, token.issuedAt, token.expiresAt) <= now;
}

export interface TokenVerdict {
  /** A rotated refresh token, to persist before the new access token is used anywhere. */
  persist: SecretValue | undefined;
  /** A Warning to record: the grant is wider than the request, and differently so than last time. */
  scopesWarning: string | undefined;
  next:
    | { kind: 'refuse'; outcome: Outcome }
    | { kind: 'publish'; data: ReadonlyMap<string, SecretValue>; record: Omit<PublishedRecord, 'dataHash'> };
}

/** What to do with a token just obtained. */
export function judgeToken(
  observed: Observed,
  request: TokenToRequest,
  token: TokenSet,
  key: RecordKey,
): TokenVerdict {
  const { connection } = observed;
  const { plan } = request;
  const persist = plan.request.grant.type === 'refresh_token' ? token.refreshToken : undefined;
  const requested = plan.request.scopes;
  const granted = token.grantedScopes;
  const extra =
    requested === undefined || granted === undefined ? [] : granted.filter((s) => !requested.includes(s));
  let scopesWarning: string | undefined;
  if (requested !== undefined && extra.length > 0) {
    const message = `the server granted scopes beyond those requested: ${extra.join(' ')}`;
    const record = publishedRecord(connection, observed.target, key);
    const previouslyExtra = (record?.grantedScopes ?? []).filter((s) => !requested.includes(s));
    if (previouslyExtra.join(' ') !== extra.join(' ')) scopesWarning = message;
    const strict = strictScopesOf(connection);
    if (strict) {
      return {
        persist,
        scopesWarning,
        next: {
          kind: 'refuse',
          outcome: {
            kind: 'blocked',
            reason: Reason.ScopesExceeded,
            message: `${message}; strictScopes is set, so the token was not published`,
            credentials: 'present',
          },
        },
      };
    }
  }
  return {
    persist,
    scopesWarning,
    next: {
      kind: 'publish',
      data: plan.publish(token),
      record: {
        requestHash: request.requestHash,
        issuedAt: token.issuedAt,
        ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }),
        ...(token.grantedScopes === undefined ? {} : { grantedScopes: recordedScopes(token.grantedScopes) }),
        ...(request.forceValue === undefined ? {} : { forceRefreshHandled: request.forceValue }),
      },
    },
  };
}

/** `spec.<type>.strictScopes`, for every type whose settings have it (auth0, oauth2, shopify, zendesk). */
export function strictScopesOf(connection: VaultConnection): boolean {
  const { spec } = connection;
  const settings = (spec as Record<string, unknown>)[spec.type] as { strictScopes?: unknown } | undefined;
  return settings?.strictScopes === true;
}

/** The granted-scopes annotation holds at most this many bytes (annotations share 256 KiB in all). */
export const MAX_RECORDED_SCOPES_BYTES = 16 * 1024;

/** The granted scopes as recorded on the target Secret: in order, until the annotation would be too long. */
export function recordedScopes(scopes: readonly string[]): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const scope of scopes) {
    bytes += Buffer.byteLength(scope) + (kept.length === 0 ? 0 : 1);
    if (bytes > MAX_RECORDED_SCOPES_BYTES) break;
    kept.push(scope);
  }
  return kept;
}

export interface FailureVerdict {
  reason: Reason;
  retry: RetryState;
  outcome: Outcome;
  /** The backoff; undefined after a terminal error, which waits for a change. */
  requeueAfterMs: number | undefined;
}

/** What a failed token request means: the reason, and when to try again. `random` is in [0, 1). */
export function judgeFailure(
  observed: Observed,
  request: TokenToRequest,
  error: CoffreError,
  now: number,
  random: () => number,
): FailureVerdict {
  const reason = reasonForTokenError(error.code);
  const failures = (observed.retry?.failures ?? 0) + 1;
  let delay: number | undefined;
  if (error.retryable) {
    const exponential = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
    delay = Math.round(exponential / 2 + (exponential / 2) * random());
    delay = Math.max(delay, Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  }
  return {
    reason,
    // After a terminal error a human must act: wait for a change of the request (credentials, spec, force-refresh).
    retry: {
      failures,
      failedAt: now,
      notBefore: delay === undefined ? Number.POSITIVE_INFINITY : now + delay,
      requestDigest: request.requestDigest,
      reason,
      message: error.message,
    },
    outcome: { kind: 'token-failed', reason, message: error.message, requestHash: request.requestHash },
    requeueAfterMs: delay,
  };
}

export type TargetWrite =
  | { kind: 'refuse'; outcome: Outcome }
  | { kind: 'unchanged' }
  /** `restartFor` is the new data hash when workloads must restart (the data changed, not just appeared). */
  | { kind: 'write'; secret: V1Secret; restartFor: string | undefined };

/** Renders what to publish into the target Secret and tells whether it must be written. */
export function planTargetWrite(
  observed: Observed,
  published: ReadonlyMap<string, SecretValue>,
  record: Omit<PublishedRecord, 'dataHash'>,
  key: RecordKey,
): TargetWrite {
  const { connection, target } = observed;
  const template = connection.spec.target?.template;
  let desired;
  try {
    desired = desiredTarget(observed.targetName, published, template, record, MAX_TARGET_DATA_BYTES);
  } catch (error) {
    if (error instanceof TemplateTooLargeError) {
      return {
        kind: 'refuse',
        outcome: {
          kind: 'blocked',
          reason: Reason.TemplateTooLarge,
          message: `the target Secret ${observed.targetName} would hold more than ${MAX_TARGET_DATA_BYTES} bytes of data: nothing was written; publish fewer or smaller keys`,
          credentials: 'present',
        },
      };
    }
    if (error instanceof TemplateError) {
      return {
        kind: 'refuse',
        outcome: {
          kind: 'blocked',
          reason: Reason.TemplateError,
          message: error.message,
          credentials: 'present',
        },
      };
    }
    throw error;
  }
  const wanted = targetSecretObject(connection, desired, template, target, key);
  if (upToDate(target, wanted)) return { kind: 'unchanged' };
  if (target?.type !== undefined && target.type !== wanted.type) {
    // The API server never changes a Secret's type in place; coffre does not delete Secrets.
    return {
      kind: 'refuse',
      outcome: {
        kind: 'blocked',
        reason: Reason.TemplateError,
        message: `spec.target.template.type ${wanted.type ?? ''} differs from the type of the existing Secret ${observed.targetName} (${target.type}), which cannot change: delete that Secret and coffre recreates it`,
        credentials: 'present',
      },
    };
  }
  const previous = publishedRecord(connection, target, key);
  const restart = previous !== undefined && restartWanted(connection, previous, desired.record);
  return {
    kind: 'write',
    secret: wanted,
    restartFor: restart ? restartedForValue(connection, desired.dataHash, key) : undefined,
  };
}

/**
 * Whether a change from the published record to the next one restarts rolloutRestartTargets. Never when
 * the data is the same (a rewrite of annotations, a drift repair). Under OnCredentialChange, not when the
 * token was requested exactly as before (a routine renewal or a force-refresh): a workload reading the
 * mounted file picks the new token up by itself (hashicorp/vault-secrets-operator#582). Static data
 * changes only when the credentials or the template do, so it always restarts.
 */
export function restartWanted(
  connection: VaultConnection,
  previous: PublishedRecord,
  next: PublishedRecord,
): boolean {
  if (previous.dataHash === next.dataHash) return false;
  const policy = connection.spec.rolloutRestartPolicy ?? DEFAULT_ROLLOUT_RESTART_POLICY;
  if (policy === 'OnEveryChange') return true;
  return previous.requestHash === undefined || previous.requestHash !== next.requestHash;
}

/**
 * When to look again: at the scheduled renewal, after a backoff, and — unless a valid token is
 * scheduled for renewal — when the published token expires, to report Expired on time.
 */
export function wakeAfter(input: {
  outcome: Outcome;
  record: PublishedRecord | undefined;
  refreshAt: number | undefined;
  requeueAfterMs: number | undefined;
  now: number;
}): number | undefined {
  const { outcome, record, refreshAt, requeueAfterMs, now } = input;
  const waits = [refreshAt === undefined ? undefined : Math.max(0, refreshAt - now), requeueAfterMs];
  if (outcome.kind !== 'token-valid' && record?.expiresAt !== undefined && record.expiresAt > now) {
    waits.push(record.expiresAt - now);
  }
  const defined = waits.filter((ms): ms is number => ms !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}
