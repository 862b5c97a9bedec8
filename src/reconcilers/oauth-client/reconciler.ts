// The OAuthClient reconciler: gathers the client's validity, its Secret and its token endpoint
// (discovery or the static one), lets the policy turn that into Ready or Empty, and reports. Connections
// that use the client are re-queued by the controller's mapping when the client changes, so a new
// client ID or secret re-mints their tokens.
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import type { OAuthClientStatus } from '../../api/v1alpha1/oauth-client.ts';
import { API_VERSION, GROUP, VERSION, type OAuthClient } from '../../api/v1alpha1/resources.ts';
import type { Validators } from '../../api/validation.ts';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../controller/store.ts';
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from '../../controller/types.ts';
import { CoffreError } from '../../errors.ts';
import type { KubePort } from '../../kube/kube-port.ts';
import type { SecretReader } from '../../kube/secret-reader.ts';
import type { TokenEngine } from '../../oauth/index.ts';
import type { EventRecorder } from '../../observability/events.ts';
import { findCondition, mergeConditions } from '../conditions.ts';
import { firstObservation, progressConditions } from '../health.ts';
import { reportProgress, reportStatus, type ReportKind } from '../report.ts';
import { readClientConfig } from './client-config.ts';
import { evaluateClient, nextCheck, type ClientFindings } from './policy.ts';

export const OAUTH_CLIENTS = { group: GROUP, version: VERSION, plural: 'oauthclients' } as const;

const REPORT: ReportKind = {
  resource: OAUTH_CLIENTS,
  apiVersion: API_VERSION,
  kind: 'OAuthClient',
  // As for connections (docs/operations.md): Empty is news when True, not in its normal False state.
  normallyFalse: new Set([ConditionType.Empty]),
  unannounced: new Set([ConditionType.Reconciling, ConditionType.Stalled]),
  isWarning: (c) => c.type === ConditionType.Ready && c.status !== 'True',
};

export interface OAuthClientReconcilerDeps {
  clients: Pick<Store<OAuthClient>, 'get'>;
  secrets: SecretReader;
  port: KubePort;
  events: EventRecorder;
  engine: TokenEngine;
  validators: Validators;
  clock: Clock;
  random: () => number;
}

export class OAuthClientReconciler implements Reconciler {
  readonly #deps: OAuthClientReconcilerDeps;
  /** Consecutive retryable failures per client (in memory only). */
  readonly #failures = new Map<string, number>();

  constructor(deps: OAuthClientReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const id = `${key.namespace}/${key.name}`;
    const client = this.#deps.clients.get(id);
    if (client === undefined || client.metadata.deletionTimestamp !== undefined) {
      this.#failures.delete(id);
      return undefined;
    }
    const generation = client.metadata.generation ?? 0;
    let current = client.status;
    if (firstObservation(current?.conditions)) {
      // Before discovery, which may take until its timeout: tools see at once that coffre has it in hand.
      const progress: OAuthClientStatus = {
        ...current,
        observedGeneration: generation,
        conditions: progressConditions(
          current?.conditions,
          { reason: Reason.Reconciling, message: 'coffre has seen the client and is working on it' },
          generation,
          new Date(this.#deps.clock.now()),
        ),
      };
      const report = await reportProgress(this.#deps, REPORT, client, progress, context.signal);
      if (report.changed) current = (report.stored as OAuthClient).status;
    }
    const evaluation = evaluateClient(client, await this.#gather(client));
    const status: OAuthClientStatus = {
      observedGeneration: generation,
      conditions: mergeConditions(
        current?.conditions,
        evaluation.conditions,
        generation,
        new Date(this.#deps.clock.now()),
      ),
      ...evaluation.fields,
    };
    await reportStatus(
      this.#deps,
      REPORT,
      { metadata: client.metadata, status: current },
      status,
      context.signal,
    );
    const failures = evaluation.retry ? (this.#failures.get(id) ?? 0) + 1 : 0;
    if (failures === 0) this.#failures.delete(id);
    else this.#failures.set(id, failures);
    const ready = findCondition(status.conditions, ConditionType.Ready)?.status === 'True';
    const wait = nextCheck(ready, failures, this.#deps.random);
    return wait === undefined ? undefined : { requeueAfterMs: wait };
  }

  async #gather(client: OAuthClient): Promise<ClientFindings> {
    const validation = this.#deps.validators.oauthClient(client);
    if (!validation.ok) return { kind: 'invalid-spec', validation };
    const config = await readClientConfig(client, this.#deps.secrets);
    if (config.kind !== 'ready') return { kind: 'unusable', config };
    try {
      return { kind: 'resolved', resolved: await this.#deps.engine.resolveClient(config.config) };
    } catch (error) {
      if (!(error instanceof CoffreError)) throw error;
      return { kind: 'unresolved', error };
    }
  }
}
