// The OAuthClient reconciler: checks the client's Secret and resolves its token endpoint (discovery or
// the static one), and reports Ready or Empty. Connections that use the client are re-queued by the
// controller's mapping when the client changes, so a new client ID or secret re-mints their tokens.
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import { DEFAULT_AUTH_METHOD, type OAuthClientStatus } from '../../api/v1alpha1/oauth-client.ts';
import { API_VERSION, GROUP, VERSION, type OAuthClient } from '../../api/v1alpha1/resources.ts';
import { formatProblems, type Validators } from '../../api/validation.ts';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../controller/store.ts';
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from '../../controller/types.ts';
import { CoffreError } from '../../errors.ts';
import type { TokenEngine } from '../../oauth/index.ts';
import { findCondition, mergeConditions, transitions, type DesiredCondition } from '../conditions.ts';
import type { EventRecorder } from '../../observability/events.ts';
import type { KubePort } from '../../kube/kube-port.ts';
import type { SecretReader } from '../../kube/secret-reader.ts';
import { sameStatus } from '../vault-connection/status.ts';
import { reasonForTokenError } from '../vault-connection/token-errors.ts';
import { readClientConfig } from './client-config.ts';

export const OAUTH_CLIENTS = { group: GROUP, version: VERSION, plural: 'oauthclients' } as const;
/** Discovery documents change rarely; look again this often. */
const RECHECK_MS = 60 * 60_000;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 10 * 60_000;

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

interface Evaluation {
  conditions: DesiredCondition[];
  fields: Pick<OAuthClientStatus, 'tokenEndpoint' | 'revocationEndpoint' | 'authMethod'>;
  retry: boolean;
}

function cond(
  type: string,
  status: DesiredCondition['status'],
  reason: string,
  message: string,
): DesiredCondition {
  return { type, status, reason, message };
}

export class OAuthClientReconciler implements Reconciler {
  readonly #deps: OAuthClientReconcilerDeps;
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
    const evaluation = await this.#evaluate(client);
    const generation = client.metadata.generation ?? 0;
    const status: OAuthClientStatus = {
      observedGeneration: generation,
      conditions: mergeConditions(
        client.status?.conditions,
        evaluation.conditions,
        generation,
        new Date(this.#deps.clock.now()),
      ),
      ...evaluation.fields,
    };
    if (!sameStatus(status, client.status)) {
      context.signal.throwIfAborted();
      await this.#deps.port.patchStatus(OAUTH_CLIENTS, key.namespace, key.name, status);
      for (const { condition } of transitions(client.status?.conditions, status.conditions ?? [])) {
        this.#deps.events.record(
          {
            apiVersion: API_VERSION,
            kind: 'OAuthClient',
            namespace: key.namespace,
            name: key.name,
            uid: client.metadata.uid ?? '',
          },
          condition.type === ConditionType.Ready && condition.status !== 'True' ? 'Warning' : 'Normal',
          condition.reason,
          `${condition.type}=${condition.status}: ${condition.message}`,
        );
      }
    }
    if (!evaluation.retry) {
      this.#failures.delete(id);
      const ready = findCondition(status.conditions, ConditionType.Ready);
      return ready?.status === 'True' ? { requeueAfterMs: RECHECK_MS } : undefined;
    }
    const failures = (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, failures);
    const exponential = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
    return { requeueAfterMs: Math.round(exponential / 2 + (exponential / 2) * this.#deps.random()) };
  }

  async #evaluate(client: OAuthClient): Promise<Evaluation> {
    const validation = this.#deps.validators.oauthClient(client);
    const authMethod = client.spec.authMethod ?? DEFAULT_AUTH_METHOD;
    if (!validation.ok) {
      const message = formatProblems(validation.problems);
      return {
        conditions: [
          cond(ConditionType.Ready, 'False', Reason.InvalidSpec, message),
          cond(ConditionType.Empty, 'Unknown', Reason.InvalidSpec, 'cannot tell while the spec is invalid'),
        ],
        fields: {},
        retry: false,
      };
    }
    const config = await readClientConfig(client, this.#deps.secrets);
    if (config.kind === 'cross-namespace') {
      return {
        conditions: [
          cond(ConditionType.Ready, 'False', Reason.CrossNamespaceReference, config.message),
          cond(
            ConditionType.Empty,
            'Unknown',
            Reason.CrossNamespaceReference,
            'cannot tell until the reference is fixed',
          ),
        ],
        fields: { authMethod },
        retry: false,
      };
    }
    if (config.kind === 'empty') {
      return {
        conditions: [
          cond(ConditionType.Ready, 'False', config.reason, config.message),
          cond(ConditionType.Empty, 'True', config.reason, config.message),
        ],
        fields: { authMethod },
        retry: false,
      };
    }
    const present = cond(
      ConditionType.Empty,
      'False',
      Reason.CredentialsPresent,
      'the client credentials are present',
    );
    try {
      const resolved = await this.#deps.engine.resolveClient(config.config);
      const warnings = resolved.warnings.length > 0 ? ` (${resolved.warnings.join('; ')})` : '';
      return {
        conditions: [
          cond(
            ConditionType.Ready,
            'True',
            Reason.ClientReady,
            `token endpoint ${resolved.tokenEndpoint}${warnings}`,
          ),
          present,
        ],
        fields: {
          tokenEndpoint: resolved.tokenEndpoint,
          ...(resolved.revocationEndpoint === undefined
            ? {}
            : { revocationEndpoint: resolved.revocationEndpoint }),
          authMethod: resolved.authMethod,
        },
        retry: false,
      };
    } catch (error) {
      if (!(error instanceof CoffreError)) throw error;
      const reason =
        error.code === 'network' || error.code === 'timeout'
          ? Reason.DiscoveryFailed
          : reasonForTokenError(error.code);
      return {
        conditions: [cond(ConditionType.Ready, 'False', reason, error.message), present],
        fields: { authMethod },
        retry: error.retryable,
      };
    }
  }
}
