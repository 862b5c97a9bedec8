// Health in the kstatus convention (sigs.k8s.io/cli-utils): `Reconciling=True` while coffre works toward
// what the spec asks, `Stalled=True` when it cannot get there without a person, both False otherwise.
// Which of the two a reason means is decided here, once, for every reason coffre writes: the
// reconcilers, the API reference, the Argo CD health check (charts/coffre/files/argocd-health.lua) and
// their tests all read this table.
import { Reason } from './conditions.ts';

/**
 * - `ready`: the resource is what its spec asks (Ready=True).
 * - `progressing`: coffre is working on it right now (first token, a new spec or credentials, a renewal).
 * - `empty`: no credentials yet. Not an error, not coffre's work: waiting for a Secret or a reference.
 * - `transient`: a failure coffre retries by itself (with backoff, or after Retry-After).
 * - `stalled`: a failure that needs a person: nothing is retried until the spec, a Secret or an
 *   OAuthClient changes.
 * - `detail`: never the reason of Ready (Empty=False, Expired, a Warning Event): decides no health.
 */
export type ReasonHealth = 'ready' | 'progressing' | 'empty' | 'transient' | 'stalled' | 'detail';

/** Every reason's health. A total record: a new reason does not compile until it is classified. */
export const reasonHealth: Readonly<Record<Reason, ReasonHealth>> = {
  TokenValid: 'ready',
  CredentialsPublished: 'ready',
  ClientReady: 'ready',
  // Ready=True: the published token still serves; the health follows the reason of the failure.
  RenewalFailing: 'ready',
  // Ready=True: published; the service retires these credentials on a date (a Warning says which).
  CredentialsRetiring: 'ready',
  Reconciling: 'progressing',
  Renewing: 'progressing',
  NoCredentialsRef: 'empty',
  SecretNotFound: 'empty',
  KeysMissing: 'empty',
  OAuthClientNotFound: 'empty',
  OAuthClientEmpty: 'empty',
  InvalidSpec: 'stalled',
  InvalidCredentials: 'stalled',
  CrossNamespaceReference: 'stalled',
  TargetSecretConflict: 'stalled',
  EndpointRefused: 'stalled',
  OAuthClientNotReady: 'stalled',
  ScopesExceeded: 'stalled',
  TemplateError: 'stalled',
  TemplateTooLarge: 'stalled',
  InvalidClient: 'stalled',
  UnauthorizedClient: 'stalled',
  InvalidGrant: 'stalled',
  ReauthorizationRequired: 'stalled',
  InvalidScope: 'stalled',
  InvalidTarget: 'stalled',
  DiscoveryFailed: 'transient',
  EndpointUnreachable: 'transient',
  RateLimited: 'transient',
  ServerError: 'transient',
  InvalidResponse: 'transient',
  TokenRequestFailed: 'transient',
  CredentialsPresent: 'detail',
  RolloutRestartFailed: 'detail',
  TokenExpired: 'detail',
  NoToken: 'detail',
  DoesNotExpire: 'detail',
  // Events of a deletion (revokeOnDelete), never a condition's reason.
  TokensRevoked: 'detail',
  RevocationFailed: 'detail',
};

/** The reasons of one health, in catalogue order (the Argo CD health check lists the stalled ones). */
export function reasonsOf(health: ReasonHealth): Reason[] {
  return (Object.keys(reasonHealth) as Reason[]).filter((reason) => reasonHealth[reason] === health);
}
