// The state Secret: where coffre keeps the latest rotation of a connection's refresh token. The seed
// (the refresh token a person put in the credentials Secret) is recorded by hash, so a new seed — a
// re-authorisation — wins over every rotation of the old one.
import type { V1Secret } from '@kubernetes/client-node';
import {
  CONNECTION_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  STATE_ROLE_LABEL,
} from '../../api/v1alpha1/metadata-keys.ts';
import type { VaultConnection } from '../../api/v1alpha1/resources.ts';
import { decodeSecretData } from '../../kube/secret-reader.ts';
import { requestFingerprint } from '../../secrets/data-hash.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import { isOwnedBy, ownerReference } from './target-secret.ts';

export const STATE_SECRET_SUFFIX = '-coffre-state';
const SEED_HASH_ANNOTATION = 'coffre.dev/seed-hash';

/** A rotated refresh token whose write failed: kept in memory so it is never lost. */
export interface PendingRotation {
  refreshToken: SecretValue;
  seedHash: string;
}

export function stateSecretName(connection: VaultConnection): string {
  return `${connection.metadata.name ?? ''}${STATE_SECRET_SUFFIX}`;
}

export function seedHash(connection: VaultConnection, seed: SecretValue | undefined): string {
  return requestFingerprint(connection.metadata.uid ?? '', ['seed', seed]);
}

/** The latest rotation of the seed refresh token, unless the seed itself changed (re-authorisation). */
export function rotatedRefreshToken(
  connection: VaultConnection,
  seed: SecretValue | undefined,
  state: V1Secret | undefined,
  pending: PendingRotation | undefined,
): SecretValue | undefined {
  if (seed === undefined) return undefined;
  const hash = seedHash(connection, seed);
  if (pending?.seedHash === hash) return pending.refreshToken;
  if (state === undefined || !isOwnedBy(state, connection)) return undefined;
  if (state.metadata?.annotations?.[SEED_HASH_ANNOTATION] !== hash) return undefined;
  return decodeSecretData(state).get('refresh_token');
}

export function stateSecretObject(connection: VaultConnection, rotation: PendingRotation): V1Secret {
  return {
    metadata: {
      name: stateSecretName(connection),
      namespace: connection.metadata.namespace ?? '',
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [CONNECTION_LABEL]: connection.metadata.name ?? '',
        [STATE_ROLE_LABEL]: 'refresh-token',
      },
      annotations: { [SEED_HASH_ANNOTATION]: rotation.seedHash },
      ownerReferences: [ownerReference(connection)],
    },
    type: 'Opaque',
    data: { refresh_token: Buffer.from(rotation.refreshToken.reveal(), 'utf8').toString('base64') },
  };
}
