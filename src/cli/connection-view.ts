// What the commands say about a connection, decided from the VaultConnection alone (pure: no I/O, the
// clock passed in). `status` uses nothing else, so it needs no permission beyond coffre-view.
import { ConditionType, type Condition } from '../api/v1alpha1/conditions.ts';
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { type VaultConnection } from '../api/v1alpha1/resources.ts';
import { DEFAULT_TARGET_SUFFIX } from '../api/v1alpha1/vault-connection.ts';

/** The state shown for a connection, after kstatus: Stalled is "not Ready, and waiting will not help". */
export type ConnectionState = 'Ready' | 'Empty' | 'Expired' | 'Stalled' | 'Reconciling';

export function conditionOf(connection: VaultConnection, type: string): Condition | undefined {
  return connection.status?.conditions?.find((c) => c.type === type);
}

export function stateOf(connection: VaultConnection): ConnectionState {
  const ready = conditionOf(connection, ConditionType.Ready);
  const generation = connection.metadata.generation;
  const observed = connection.status?.observedGeneration;
  if (ready === undefined || ready.status === 'Unknown') return 'Reconciling';
  if (generation !== undefined && observed !== undefined && observed < generation) return 'Reconciling';
  if (ready.status === 'True') return 'Ready';
  if (conditionOf(connection, ConditionType.Empty)?.status === 'True') return 'Empty';
  if (conditionOf(connection, ConditionType.Expired)?.status === 'True') return 'Expired';
  return 'Stalled';
}

export function targetSecretName(connection: VaultConnection): string {
  return (
    connection.status?.secretName ??
    connection.spec.target?.name ??
    `${connection.metadata.name ?? ''}${DEFAULT_TARGET_SUFFIX}`
  );
}

/** Whether the connection's type obtains expiring tokens (always, or with its current credentials). */
export function mayHaveTokens(connection: VaultConnection): boolean {
  const tokens = connectionTypes[connection.spec.type].tokens;
  return tokens === 'always' || (tokens === 'variant' && connection.status?.expiresAt !== undefined);
}

/**
 * What makes connections share one token: the same client (an OAuthClient, or for auth0 the same
 * credentials Secret), audience, resources and scopes, in one namespace (coffre never shares across
 * namespaces). Connections with their own refresh token never share. Undefined: shares with nobody.
 */
export function shareKey(connection: VaultConnection): string | undefined {
  const { spec, metadata } = connection;
  const scopes = (settings?: { scopes?: readonly string[] }) =>
    [...(settings?.scopes ?? [])].sort().join(' ');
  if (spec.type === 'oauth2' && spec.oauthClientRef !== undefined) {
    if (spec.oauth2?.grant === 'refresh_token') return undefined;
    const resource = [...(spec.oauth2?.resource ?? [])].sort().join(' ');
    return [
      metadata.namespace,
      'client',
      spec.oauthClientRef.name,
      spec.oauth2?.audience ?? '',
      resource,
      scopes(spec.oauth2),
    ].join('\n');
  }
  if (spec.type === 'auth0') {
    const domain = spec.auth0?.domain ?? '';
    const audience = spec.auth0?.audience ?? `https://${domain}/api/v2/`;
    const client =
      spec.oauthClientRef !== undefined
        ? `client\n${spec.oauthClientRef.name}`
        : spec.credentialsRef !== undefined
          ? `secret\n${spec.credentialsRef.name}\n${domain}`
          : undefined;
    if (client === undefined) return undefined;
    return [metadata.namespace, client, audience, scopes(spec.auth0)].join('\n');
  }
  return undefined;
}

/** For each connection (by namespace/name), how many connections of the list share its token, itself included. */
export function shareCounts(list: readonly VaultConnection[]): Map<string, number> {
  const byKey = new Map<string, number>();
  for (const connection of list) {
    const key = shareKey(connection);
    if (key !== undefined) byKey.set(key, (byKey.get(key) ?? 0) + 1);
  }
  const counts = new Map<string, number>();
  for (const connection of list) {
    const key = shareKey(connection);
    counts.set(idOf(connection), key === undefined ? 1 : (byKey.get(key) ?? 1));
  }
  return counts;
}

/** The other connections of the list that share the token of this one. */
export function sharingWith(connection: VaultConnection, list: readonly VaultConnection[]): string[] {
  const key = shareKey(connection);
  if (key === undefined) return [];
  return list
    .filter((other) => idOf(other) !== idOf(connection) && shareKey(other) === key)
    .map((other) => other.metadata.name ?? '');
}

export function idOf(connection: VaultConnection): string {
  return `${connection.metadata.namespace ?? ''}/${connection.metadata.name ?? ''}`;
}

/** The error to show: the Ready condition's message when it is not Ready, nothing otherwise. */
export function lastError(connection: VaultConnection): string | undefined {
  const ready = conditionOf(connection, ConditionType.Ready);
  if (ready === undefined || ready.status === 'True') return undefined;
  return ready.message === '' ? undefined : ready.message;
}

export interface StatusRow {
  namespace: string;
  name: string;
  type: string;
  state: ConnectionState;
  reason: string;
  expiresAt?: string;
  nextRefreshTime?: string;
  lastRefreshTime?: string;
  /** Connections sharing this one's token, itself included (1: its own token). */
  sharedBy: number;
  secretName: string;
  oauthClient?: string;
  lastError?: string;
}

export function statusRows(list: readonly VaultConnection[], counts = shareCounts(list)): StatusRow[] {
  return list.map((connection) => {
    const status = connection.status;
    const error = lastError(connection);
    return {
      namespace: connection.metadata.namespace ?? '',
      name: connection.metadata.name ?? '',
      type: connection.spec.type,
      state: stateOf(connection),
      reason: conditionOf(connection, ConditionType.Ready)?.reason ?? '-',
      ...(status?.expiresAt === undefined ? {} : { expiresAt: status.expiresAt }),
      ...(status?.nextRefreshTime === undefined ? {} : { nextRefreshTime: status.nextRefreshTime }),
      ...(status?.lastRefreshTime === undefined ? {} : { lastRefreshTime: status.lastRefreshTime }),
      sharedBy: counts.get(idOf(connection)) ?? 1,
      secretName: targetSecretName(connection),
      ...(connection.spec.oauthClientRef === undefined
        ? {}
        : { oauthClient: connection.spec.oauthClientRef.name }),
      ...(error === undefined ? {} : { lastError: error }),
    };
  });
}
