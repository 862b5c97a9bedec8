// Act: the I/O a decision calls for — request a token, persist a rotated refresh token, write the
// target Secret, restart workloads. What to do was decided by the policy; these only do it.
import type { OwnedSecretData } from '../../kube/owned-secret-data.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { Reason } from '../../api/v1alpha1/conditions.ts';
import { RESTARTED_FOR_ANNOTATION } from '../../api/v1alpha1/metadata-keys.ts';
import { API_VERSION, type VaultConnection } from '../../api/v1alpha1/resources.ts';
import type { Clock } from '../../clock.ts';
import { CoffreError } from '../../errors.ts';
import { isConflict, isNotFound, type KubePort } from '../../kube/kube-port.ts';
import type { WrittenView } from '../../kube/read-your-writes.ts';
import type { TokenEngine, TokenSet } from '../../oauth/index.ts';
import type { EventRecorder } from '../../observability/events.ts';
import { eventTarget } from '../report.ts';
import { dueOnArrival, type TokenToRequest } from './policy.ts';
import { stateSecretName, stateSecretObject, type PendingRotation } from './state-secret.ts';
import { isOwnedBy } from './target-secret.ts';

export const VAULT_CONNECTION_KIND = { apiVersion: API_VERSION, kind: 'VaultConnection' } as const;

export interface ActDeps {
  port: KubePort;
  ownedSecrets: WrittenView<V1Secret>;
  ownedData: Pick<OwnedSecretData, 'remember'>;
  events: EventRecorder;
  engine: TokenEngine;
  clock: Clock;
}

/** Requests the token; a shared one already due for renewal here is replaced by a fresh one. */
export async function requestToken(
  deps: Pick<ActDeps, 'engine' | 'clock'>,
  connection: VaultConnection,
  request: TokenToRequest,
): Promise<TokenSet> {
  const { engine, clock } = deps;
  const askedAt = clock.now();
  const token = await engine.getToken(request.plan.request, {
    minTtlMs: request.minTtlMs,
    force: request.force,
  });
  if (!dueOnArrival(connection, token, askedAt, clock.now(), request.force)) return token;
  return engine.getToken(request.plan.request, { minTtlMs: 0, force: true });
}

/** A write, for the next reconcile (before the watch reports it) and for reading its version later. */
function remember(deps: Pick<ActDeps, 'ownedSecrets' | 'ownedData'>, written: V1Secret): void {
  deps.ownedSecrets.wrote(written);
  deps.ownedData.remember(written);
}

/** Writes the rotated refresh token to the state Secret. */
export async function persistRotation(
  deps: Pick<ActDeps, 'port' | 'ownedSecrets' | 'ownedData'>,
  connection: VaultConnection,
  rotation: PendingRotation,
): Promise<void> {
  const namespace = connection.metadata.namespace ?? '';
  const name = stateSecretName(connection);
  // The cache as it is now, not as gathered: the replace needs the latest resourceVersion.
  const existing = deps.ownedSecrets.get(`${namespace}/${name}`);
  if (existing !== undefined && !isOwnedBy(existing, connection)) {
    throw new CoffreError('state_conflict', `Secret ${name} exists and is not owned by this connection`, {
      retryable: false,
    });
  }
  const body = stateSecretObject(connection, rotation);
  await deps.ownedSecrets.writing(`${namespace}/${name}`, async () => {
    const written =
      existing === undefined
        ? await deps.port.createSecret(namespace, body)
        : await deps.port.replaceSecret(namespace, {
            ...body,
            metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion ?? '' },
          });
    remember(deps, written);
  });
}

/**
 * Creates or replaces the target Secret. If one appeared since it was cached (our cache lagging), it
 * is taken over only if it is ours; anything else is a conflict.
 */
export async function writeTarget(
  deps: Pick<ActDeps, 'port' | 'ownedSecrets' | 'ownedData'>,
  connection: VaultConnection,
  existing: V1Secret | undefined,
  wanted: V1Secret,
): Promise<{ kind: 'written'; secret: V1Secret } | { kind: 'conflict' }> {
  const namespace = connection.metadata.namespace ?? '';
  const name = wanted.metadata?.name ?? '';
  return deps.ownedSecrets.writing(`${namespace}/${name}`, async () => {
    let written: V1Secret;
    if (existing !== undefined) written = await deps.port.replaceSecret(namespace, wanted);
    else {
      try {
        written = await deps.port.createSecret(namespace, wanted);
      } catch (error) {
        if (!isConflict(error)) throw error;
        const live = await deps.port.getSecret(namespace, name);
        if (live === undefined || !isOwnedBy(live, connection)) return { kind: 'conflict' as const };
        written = await deps.port.replaceSecret(namespace, {
          ...wanted,
          metadata: { ...wanted.metadata, resourceVersion: live.metadata?.resourceVersion ?? '' },
        });
      }
    }
    remember(deps, written);
    return { kind: 'written' as const, secret: written };
  });
}

/**
 * Restarts workloads of the connection (those still in its rolloutRestartTargets); a failure is reported
 * as an Event, never thrown.
 */
export async function restartWorkloads(
  deps: Pick<ActDeps, 'port' | 'events'>,
  connection: VaultConnection,
  restarts: readonly { workload: { kind: string; name: string }; restartedFor: string }[],
): Promise<void> {
  const target = eventTarget(VAULT_CONNECTION_KIND, connection);
  const wanted = connection.spec.rolloutRestartTargets ?? [];
  for (const { workload, restartedFor } of restarts) {
    if (!wanted.some((w) => w.kind === workload.kind && w.name === workload.name)) continue;
    try {
      await deps.port.annotatePodTemplate(workload.kind, connection.metadata.namespace ?? '', workload.name, {
        [RESTARTED_FOR_ANNOTATION]: restartedFor,
      });
      deps.events.record(
        target,
        'Normal',
        'RolloutRestarted',
        `restarted ${workload.kind} ${workload.name}: the published data changed`,
      );
    } catch (error) {
      const why = isNotFound(error) ? 'not found' : error instanceof Error ? error.message : String(error);
      deps.events.record(
        target,
        'Warning',
        Reason.RolloutRestartFailed,
        `could not restart ${workload.kind} ${workload.name}: ${why}`,
      );
    }
  }
}
