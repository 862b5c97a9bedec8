// Policy for an OAuthClient: its conditions and status fields from what was gathered (the spec's
// validity, the client's Secret, the resolved token endpoint), and when to look again. Pure.
import { ConditionType, Reason } from '../../api/v1alpha1/conditions.ts';
import { DEFAULT_AUTH_METHOD, type OAuthClientStatus } from '../../api/v1alpha1/oauth-client.ts';
import type { OAuthClient } from '../../api/v1alpha1/resources.ts';
import { formatProblems, type ValidationResult } from '../../api/validation.ts';
import type { CoffreError } from '../../errors.ts';
import type { ResolvedClient } from '../../oauth/index.ts';
import type { DesiredCondition } from '../conditions.ts';
import { healthConditions } from '../health.ts';
import { reasonForTokenError } from '../vault-connection/token-errors.ts';
import type { ClientConfigResult } from './client-config.ts';

/** Discovery documents change rarely; look again this often. */
export const RECHECK_MS = 60 * 60_000;
export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 10 * 60_000;

/** What gathering found, stage by stage: each stage is reached only if the previous one passed. */
export type ClientFindings =
  | { kind: 'invalid-spec'; validation: Extract<ValidationResult<unknown>, { ok: false }> }
  | { kind: 'unusable'; config: Exclude<ClientConfigResult, { kind: 'ready' }> }
  | { kind: 'resolved'; resolved: ResolvedClient }
  | { kind: 'unresolved'; error: CoffreError };

export interface Evaluation {
  conditions: DesiredCondition[];
  fields: Pick<OAuthClientStatus, 'tokenEndpoint' | 'revocationEndpoint' | 'authMethod'>;
  /** A retryable failure: look again after a backoff. */
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

/** Ready and Empty from what was found, then Reconciling and Stalled as the health table says. */
export function evaluateClient(client: OAuthClient, findings: ClientFindings): Evaluation {
  const evaluation = readiness(client, findings);
  const [ready] = evaluation.conditions;
  if (ready === undefined) return evaluation;
  return { ...evaluation, conditions: [...evaluation.conditions, ...healthConditions(ready)] };
}

function readiness(client: OAuthClient, findings: ClientFindings): Evaluation {
  const authMethod = client.spec.authMethod ?? DEFAULT_AUTH_METHOD;
  const present = cond(
    ConditionType.Empty,
    'False',
    Reason.CredentialsPresent,
    'the client credentials are present',
  );
  switch (findings.kind) {
    case 'invalid-spec': {
      const message = formatProblems(findings.validation.problems);
      return {
        conditions: [
          cond(ConditionType.Ready, 'False', Reason.InvalidSpec, message),
          cond(ConditionType.Empty, 'Unknown', Reason.InvalidSpec, 'cannot tell while the spec is invalid'),
        ],
        fields: {},
        retry: false,
      };
    }
    case 'unusable': {
      const { config } = findings;
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
      return {
        conditions: [
          cond(ConditionType.Ready, 'False', config.reason, config.message),
          cond(ConditionType.Empty, 'True', config.reason, config.message),
        ],
        fields: { authMethod },
        retry: false,
      };
    }
    case 'resolved': {
      const { resolved } = findings;
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
    }
    case 'unresolved': {
      const { error } = findings;
      // Discovery is the only request an OAuthClient makes: an unreachable issuer is a failed discovery.
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

/**
 * When to look again: hourly while Ready (discovery documents change), after a jittered exponential
 * backoff while a retryable failure lasts, and otherwise only on a change. `random` is in [0, 1).
 */
export function nextCheck(ready: boolean, failures: number, random: () => number): number | undefined {
  if (failures === 0) return ready ? RECHECK_MS : undefined;
  const exponential = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
