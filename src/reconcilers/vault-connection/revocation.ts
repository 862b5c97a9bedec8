// Revocation on delete (RFC 7009): whether a connection wants it (its own revokeOnDelete, else its
// OAuthClient's), which of its tokens to revoke — the access token coffre published and the current
// refresh token — and which to leave because another connection of the namespace may use them (tokens
// are shared between connections of the same client, audience and scopes), and until when to try: the
// finalizer is released REVOCATION_TIMEOUT_MS after the deletion whatever happened, so that deleting a
// namespace never hangs on a dead endpoint. Pure; the reconciler does the I/O.
import type { OAuthClient, VaultConnection } from '../../api/v1alpha1/resources.ts';
import type { CoffreError } from '../../errors.ts';
import { isOAuthError } from '../../oauth/index.ts';
import { decodeSecretData } from '../../kube/secret-reader.ts';
import type { RecordKey } from '../../secrets/record-key.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import type { Observed } from './gather.ts';
import { publishedRecord } from './policy.ts';
import { rotatedRefreshToken } from './state-secret.ts';

/** How long after its deletion a connection's finalizer waits for revocation (docs/operations.md). */
export const REVOCATION_TIMEOUT_MS = 30_000;
/** Between two attempts while the endpoint fails. */
export const REVOCATION_RETRY_MS = 5_000;

/** Whether revokeOnDelete is in effect: the connection's own setting, else its OAuthClient's, else off. */
export function revokeOnDelete(connection: VaultConnection, client: OAuthClient | undefined): boolean {
  return connection.spec.revokeOnDelete ?? client?.spec.revokeOnDelete ?? false;
}

/** When the finalizer is released even if revocation has not succeeded. */
export function revocationDeadline(connection: VaultConnection): number {
  const deleted = new Date(connection.metadata.deletionTimestamp ?? Number.NaN).getTime();
  return (Number.isNaN(deleted) ? 0 : deleted) + REVOCATION_TIMEOUT_MS;
}

export interface TokenToRevoke {
  token: SecretValue;
  hint: 'access_token' | 'refresh_token';
}

export interface RevocationPlan {
  revoke: TokenToRevoke[];
  /** Why a token is left alone (for the Event), e.g. shared with another connection. */
  kept: string[];
}

/**
 * The tokens to revoke. The access token only from a target Secret coffre signed (never a value planted
 * there) and holding it as `access_token` (a template may have renamed it: then there is none to send);
 * the refresh token as last rotated, else the one in the credentials Secret. A token is kept when
 * another live connection of the namespace uses the same OAuthClient (or credentials Secret): it may
 * hold the very same token.
 */
export function planRevocation(
  observed: Observed,
  seed: SecretValue | undefined,
  others: readonly VaultConnection[],
  key: RecordKey,
): RevocationPlan {
  const { connection } = observed;
  const sharing = others.filter(
    (other) =>
      other.metadata.uid !== connection.metadata.uid &&
      other.metadata.deletionTimestamp === undefined &&
      ((connection.spec.oauthClientRef !== undefined &&
        other.spec.oauthClientRef?.name === connection.spec.oauthClientRef.name) ||
        (connection.spec.credentialsRef !== undefined &&
          other.spec.credentialsRef?.name === connection.spec.credentialsRef.name)),
  );
  if (sharing.length > 0) {
    const names = sharing.map((other) => other.metadata.name ?? '').sort();
    return { revoke: [], kept: [`tokens kept: connection ${names.join(', ')} may share them`] };
  }
  const revoke: TokenToRevoke[] = [];
  const kept: string[] = [];
  const record = publishedRecord(connection, observed.target, key);
  const access =
    record === undefined ? undefined : decodeSecretData(observed.target ?? {}).get('access_token');
  if (access !== undefined && !access.isBlank) revoke.push({ token: access, hint: 'access_token' });
  else kept.push('no access token to revoke (none published, or renamed by the template)');
  const refresh = rotatedRefreshToken(connection, seed, observed.state, observed.pendingRotation) ?? seed;
  if (refresh !== undefined && !refresh.isBlank) revoke.push({ token: refresh, hint: 'refresh_token' });
  return { revoke, kept };
}

/**
 * Whether a failed revocation is worth trying again before the deadline: not when the server answered
 * with a 4xx other than 429 (RFC 7009 refusals such as `unsupported_token_type` for a self-contained JWT,
 * or `invalid_client`), which a retry does not change.
 */
export function revocationRetryable(error: CoffreError): boolean {
  if (!error.retryable) return false;
  if (!isOAuthError(error) || error.status === undefined) return true;
  return error.status === 429 || error.status >= 500;
}
