// Gather: everything one reconcile of a connection looks at, read once into an immutable snapshot —
// the connection, its credentials Secret or OAuthClient, the target and state Secrets, and the retry
// state kept in memory. Only caches and the Secret reader are read; nothing is written.
import type { V1Secret } from '@kubernetes/client-node';
import type { OAuthClient, VaultConnection } from '../../api/v1alpha1/resources.ts';
import type { ValidationResult, Validators } from '../../api/validation.ts';
import type { Store } from '../../controller/store.ts';
import { isWholeSecret, type OwnedSecretData } from '../../kube/owned-secret-data.ts';
import type { WrittenView } from '../../kube/read-your-writes.ts';
import type { SecretRead, SecretReader } from '../../kube/secret-reader.ts';
import type { Reason } from '../../api/v1alpha1/conditions.ts';
import { readClientConfig, type ClientConfigResult } from '../oauth-client/client-config.ts';
import { preflight, targetName } from './policy.ts';
import { stateSecretName, type PendingRotation } from './state-secret.ts';
import { isOwnedBy } from './target-secret.ts';

/**
 * Consecutive failures and the earliest next attempt, per connection: kept in memory and recorded in
 * status (retry-record.ts), so that a restarted operator or a new leader keeps the backoff.
 */
export interface RetryState {
  readonly failures: number;
  /** When the last request failed. */
  readonly failedAt: number;
  /** No new request before this moment (backoff, Retry-After); Infinity after a terminal error. */
  readonly notBefore: number;
  /**
   * The request that failed, as a keyed digest of its hash (status shows it; see retryDigest): a changed
   * request (new credentials, spec, force) is tried at once.
   */
  readonly requestDigest: string;
  /** What the failure was, reported again while waiting. */
  readonly reason: Reason;
  readonly message: string;
}

/** What the connection's references led to. */
export interface Sources {
  /** The credentials Secret; undefined without spec.credentialsRef. */
  readonly credentials: SecretRead | undefined;
  /**
   * The OAuthClient read into a client configuration; undefined without spec.oauthClientRef, and not
   * read when the credentials Secret is missing (that alone decides the outcome).
   */
  readonly oauthClient: { found: false } | { found: true; config: ClientConfigResult } | undefined;
}

export interface Observed {
  readonly connection: VaultConnection;
  readonly validation: ValidationResult<unknown>;
  readonly targetName: string;
  /** The target Secret as cached, ours or not. */
  readonly target: V1Secret | undefined;
  /** The state Secret (rotated refresh token) as cached. */
  readonly state: V1Secret | undefined;
  /** Undefined when the policy refuses the connection before its references matter (see preflight). */
  readonly sources: Sources | undefined;
  readonly retry: RetryState | undefined;
  readonly pendingRotation: PendingRotation | undefined;
}

export interface GatherDeps {
  clients: Pick<Store<OAuthClient>, 'get'>;
  /** coffre's own Secrets as watched (metadata only), or as coffre last wrote them (whole). */
  ownedSecrets: WrittenView<V1Secret>;
  ownedData: Pick<OwnedSecretData, 'get'>;
  secrets: SecretReader;
  validators: Validators;
}

export async function gather(
  deps: GatherDeps,
  connection: VaultConnection,
  memory: { retry: RetryState | undefined; pendingRotation: PendingRotation | undefined },
  /** A force-refresh not yet acknowledged: read the referenced Secrets again, not from memory. */
  refetch = false,
): Promise<Observed> {
  const target = targetName(connection);
  const observed: Observed = {
    connection,
    validation: deps.validators.vaultConnection(connection),
    targetName: target,
    target: await ownSecret(deps, connection, target),
    state: await ownSecret(deps, connection, stateSecretName(connection)),
    sources: undefined,
    ...memory,
  };
  // Read no Secret for a connection refused anyway (an invalid spec may name nothing readable).
  if (preflight(observed) !== undefined) return Object.freeze(observed);
  return Object.freeze({ ...observed, sources: await readSources(deps, connection, refetch) });
}

/**
 * One of the connection's own Secrets, whole: coffre's write not yet seen by the watch, or the watched
 * version read by name (kept per resourceVersion, so read once). A Secret of that name that is not this
 * connection's stays metadata, which is all the conflict check needs; its data is never read.
 */
async function ownSecret(
  deps: GatherDeps,
  connection: VaultConnection,
  name: string,
): Promise<V1Secret | undefined> {
  const namespace = connection.metadata.namespace ?? '';
  const cached = deps.ownedSecrets.get(`${namespace}/${name}`);
  if (cached === undefined || isWholeSecret(cached)) return cached;
  return isOwnedBy(cached, connection) ? deps.ownedData.get(cached) : cached;
}

async function readSources(
  deps: GatherDeps,
  connection: VaultConnection,
  refetch: boolean,
): Promise<Sources> {
  const namespace = connection.metadata.namespace ?? '';
  const { credentialsRef, oauthClientRef } = connection.spec;
  if (refetch) forgetReferencedSecrets(deps, connection);
  const credentials =
    credentialsRef === undefined ? undefined : await deps.secrets.read(namespace, credentialsRef.name);
  if (credentials?.found === false || oauthClientRef === undefined) {
    return { credentials, oauthClient: undefined };
  }
  const client = deps.clients.get(`${namespace}/${oauthClientRef.name}`);
  return {
    credentials,
    oauthClient:
      client === undefined
        ? { found: false }
        : { found: true, config: await readClientConfig(client, deps.secrets) },
  };
}

/** Drops what the Secret reader keeps of the connection's Secrets (its own, and its OAuthClient's). */
function forgetReferencedSecrets(deps: GatherDeps, connection: VaultConnection): void {
  const namespace = connection.metadata.namespace ?? '';
  const { credentialsRef, oauthClientRef } = connection.spec;
  if (credentialsRef !== undefined) deps.secrets.forget(namespace, credentialsRef.name);
  if (oauthClientRef === undefined) return;
  const spec = deps.clients.get(`${namespace}/${oauthClientRef.name}`)?.spec;
  for (const ref of [spec?.clientSecretRef, spec?.privateKeyRef])
    if (ref !== undefined) deps.secrets.forget(namespace, ref.name);
}
