// Status conditions, modelled on metav1.Condition, and the catalogue of their reasons. Reasons are
// CamelCase constants; tooling (kubectl's STATUS column, alerts, Argo CD and Flux) keys on them, so a
// reason, once released, keeps its meaning.
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, strictObject } from './schema-kit.ts';

export const ConditionType = {
  /** Credentials are present and, for token types, a valid unexpired token is in the target Secret. */
  Ready: 'Ready',
  /** The connection has no credentials yet. Not an error: they may be supplied later. */
  Empty: 'Empty',
  /** The token in the target Secret has passed its expiry and no fresh one could be obtained. */
  Expired: 'Expired',
  /** kstatus: coffre is working toward what the spec asks (first token, a change, a renewal, a retry). */
  Reconciling: 'Reconciling',
  /** kstatus: coffre cannot get there without a person; the reason says what to fix. */
  Stalled: 'Stalled',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: 'Type of condition: Ready, Empty, Expired, Reconciling or Stalled.',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'The .metadata.generation the condition was computed from.',
      }),
    ),
    lastTransitionTime: Type.String({
      format: 'date-time',
      description: 'When the condition last changed status (not when its message changed).',
    }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'CamelCase reason; see the reasons catalogue in the API reference.',
    }),
    message: Type.String({
      maxLength: 32768,
      description: 'Human-readable detail. Never contains secret material or a raw response body.',
    }),
  },
  { ...strictObject, description: 'A status condition (metav1.Condition).' },
);
export type Condition = Static<typeof ConditionSchema>;

export const Conditions = Type.Array(ConditionSchema, {
  maxItems: 8,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  description:
    'Ready, Empty, Expired, Reconciling and Stalled; see the conditions section of the API reference.',
});

/**
 * Every reason coffre writes, with the condition(s) it appears on and what it means. The API reference
 * and the operations guide are generated from this table.
 */
export const Reason = {
  // Ready=True
  TokenValid: 'TokenValid',
  CredentialsPublished: 'CredentialsPublished',
  CredentialsRetiring: 'CredentialsRetiring',
  ClientReady: 'ClientReady',
  RenewalFailing: 'RenewalFailing',
  // Progress
  Reconciling: 'Reconciling',
  Renewing: 'Renewing',
  // Empty (and Ready=False while empty)
  NoCredentialsRef: 'NoCredentialsRef',
  SecretNotFound: 'SecretNotFound',
  KeysMissing: 'KeysMissing',
  OAuthClientNotFound: 'OAuthClientNotFound',
  OAuthClientEmpty: 'OAuthClientEmpty',
  CredentialsPresent: 'CredentialsPresent',
  // Configuration a human must fix
  InvalidSpec: 'InvalidSpec',
  InvalidCredentials: 'InvalidCredentials',
  CrossNamespaceReference: 'CrossNamespaceReference',
  TargetSecretConflict: 'TargetSecretConflict',
  EndpointRefused: 'EndpointRefused',
  OAuthClientNotReady: 'OAuthClientNotReady',
  ScopesExceeded: 'ScopesExceeded',
  TemplateError: 'TemplateError',
  TemplateTooLarge: 'TemplateTooLarge',
  RolloutRestartFailed: 'RolloutRestartFailed',
  TokensRevoked: 'TokensRevoked',
  RevocationFailed: 'RevocationFailed',
  // Token endpoint outcomes
  DiscoveryFailed: 'DiscoveryFailed',
  EndpointUnreachable: 'EndpointUnreachable',
  RateLimited: 'RateLimited',
  ServerError: 'ServerError',
  InvalidResponse: 'InvalidResponse',
  InvalidClient: 'InvalidClient',
  UnauthorizedClient: 'UnauthorizedClient',
  InvalidGrant: 'InvalidGrant',
  ReauthorizationRequired: 'ReauthorizationRequired',
  InvalidScope: 'InvalidScope',
  InvalidTarget: 'InvalidTarget',
  TokenRequestFailed: 'TokenRequestFailed',
  // Expired
  TokenExpired: 'TokenExpired',
  NoToken: 'NoToken',
  DoesNotExpire: 'DoesNotExpire',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ReasonDoc {
  conditions: string;
  meaning: string;
  action: string;
}

export const reasonCatalogue: Record<Reason, ReasonDoc> = {
  TokenValid: {
    conditions: 'Ready=True, Expired=False',
    meaning: 'A valid, unexpired token is in the target Secret.',
    action: 'None.',
  },
  CredentialsPublished: {
    conditions: 'Ready=True',
    meaning: 'Static credentials were validated and published to the target Secret.',
    action: 'None.',
  },
  CredentialsRetiring: {
    conditions: 'Ready=True',
    meaning:
      'Static credentials were published, but the service retires this kind of credential; the message says when (Zendesk API tokens: 2027-04-30) and what to use instead. A Warning event says it once.',
    action: 'Move to the credentials the message names (docs/providers/<type>.md) before that date.',
  },
  ClientReady: {
    conditions: 'Ready=True (OAuthClient)',
    meaning: 'The token endpoint is resolved and the client credentials are present.',
    action: 'None.',
  },
  RenewalFailing: {
    conditions: 'Ready=True',
    meaning:
      'Renewing the token failed, but the published one is valid until the time the message gives; Reconciling or Stalled carries the reason of the failure.',
    action:
      'Act on the reason of Reconciling or Stalled before the token expires (then Ready=False, Expired=True).',
  },
  Reconciling: {
    conditions: 'Reconciling=True, Ready=Unknown',
    meaning:
      'coffre is working on the resource: written at once when it first sees an OAuthClient, and once a first token or one for a changed spec or credentials has taken more than a second.',
    action: 'Wait; if it stays, read the operator log for the resource.',
  },
  Renewing: {
    conditions: 'Reconciling=True',
    meaning:
      'The published token is valid and coffre is requesting its successor: written once the renewal has taken more than a second (a routine renewal writes only its outcome).',
    action: 'None.',
  },
  NoCredentialsRef: {
    conditions: 'Empty=True, Ready=False',
    meaning: 'The connection declares no credentials (no credentialsRef or oauthClientRef).',
    action: 'Set spec.credentialsRef (or spec.oauthClientRef) when the credentials exist.',
  },
  SecretNotFound: {
    conditions: 'Empty=True, Ready=False',
    meaning: 'The referenced Secret does not exist (yet).',
    action: 'Create the Secret; coffre picks it up at once.',
  },
  KeysMissing: {
    conditions: 'Empty=True, Ready=False',
    meaning: 'The Secret exists but required keys are missing or blank; the message names them.',
    action: 'Add the named keys to the Secret.',
  },
  OAuthClientNotFound: {
    conditions: 'Empty=True, Ready=False',
    meaning: 'The referenced OAuthClient does not exist (yet).',
    action: 'Create the OAuthClient in the same namespace.',
  },
  OAuthClientEmpty: {
    conditions: 'Empty=True, Ready=False',
    meaning: 'The referenced OAuthClient has no client secret or key yet.',
    action: "Supply the OAuthClient's Secret.",
  },
  CredentialsPresent: {
    conditions: 'Empty=False',
    meaning: 'All required credentials are present.',
    action: 'None.',
  },
  InvalidSpec: {
    conditions: 'Ready=False',
    meaning:
      'The resource fails validation (for example it was stored before a CRD upgrade); the message names the field.',
    action: 'Fix the named field.',
  },
  InvalidCredentials: {
    conditions: 'Ready=False',
    meaning: 'A credential value has the wrong shape (for example a PEM key that does not parse).',
    action: 'Correct the value in the Secret; the message names the key, never the value.',
  },
  CrossNamespaceReference: {
    conditions: 'Ready=False',
    meaning: 'A reference names another namespace; connections may only use objects in their own namespace.',
    action: 'Copy the Secret or OAuthClient into this namespace and drop the namespace field.',
  },
  TargetSecretConflict: {
    conditions: 'Ready=False',
    meaning:
      'The target Secret exists and is not owned by this connection; coffre never adopts or overwrites it.',
    action: 'Choose another spec.target.name or delete the existing Secret.',
  },
  EndpointRefused: {
    conditions: 'Ready=False, Expired',
    meaning:
      'The endpoint resolves to a loopback, private, link-local or metadata address, or is not https, and is not allowlisted.',
    action: 'Use a public https endpoint, or allowlist it in the operator configuration (allowedCIDRs).',
  },
  OAuthClientNotReady: {
    conditions: 'Ready=False',
    meaning: 'The referenced OAuthClient is not Ready; its own conditions say why.',
    action: 'kubectl describe oac NAME.',
  },
  ScopesExceeded: {
    conditions: 'Ready=False',
    meaning: 'strictScopes is set and the server granted scopes beyond those requested.',
    action: 'Reduce the grants of the client at the authorisation server, or drop strictScopes.',
  },
  TemplateError: {
    conditions: 'Ready=False',
    meaning: 'spec.target.template refers to an unknown key or is malformed; the message names it.',
    action: 'Fix the template.',
  },
  TemplateTooLarge: {
    conditions: 'Ready=False',
    meaning:
      'The target Secret the template renders would hold more than 1 MiB of data (keys and values); nothing is written.',
    action: 'Publish fewer or smaller keys (each placeholder copies a whole value).',
  },
  RolloutRestartFailed: {
    conditions: 'Warning event',
    meaning: 'A workload in rolloutRestartTargets could not be restarted (missing, or forbidden).',
    action: 'Check the workload name and the operator RBAC.',
  },
  TokensRevoked: {
    conditions: 'Normal event',
    meaning:
      'The connection was deleted with revokeOnDelete: its tokens were revoked at the authorisation server (the message says which, and which were left for other connections).',
    action: 'None.',
  },
  RevocationFailed: {
    conditions: 'Warning event',
    meaning:
      'The connection was deleted with revokeOnDelete, but its tokens could not be revoked within 30 s (endpoint down, no revocation endpoint, credentials gone); the finalizer was released anyway.',
    action: 'Revoke the tokens at the provider by hand if that matters; they expire on their own.',
  },
  DiscoveryFailed: {
    conditions: 'Ready=False (OAuthClient)',
    meaning: 'The issuer metadata could not be fetched or is invalid.',
    action: 'Check spec.issuer, or set spec.tokenEndpoint.',
  },
  EndpointUnreachable: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The token endpoint could not be reached (DNS, connection, TLS or timeout).',
    action: 'Check the network path and the provider status; coffre retries with backoff.',
  },
  RateLimited: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The token endpoint answered 429; coffre waits as Retry-After or x-ratelimit-reset says.',
    action: 'Reduce token requests (share OAuthClients) or raise the provider quota.',
  },
  ServerError: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The token endpoint answered 5xx; coffre retries with backoff.',
    action: 'Check the provider status.',
  },
  InvalidResponse: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The token endpoint answered something that is not a valid token response.',
    action: 'Check the endpoint URL and type; the response body is never logged.',
  },
  InvalidClient: {
    conditions: 'Ready=False, Expired=True',
    meaning:
      'The server refused the client authentication (invalid_client). Not retried until something changes.',
    action: 'Fix the client ID or secret, or the authMethod.',
  },
  UnauthorizedClient: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The client may not use this grant (unauthorized_client). Not retried until something changes.',
    action: 'Allow the grant for the client at the authorisation server.',
  },
  InvalidGrant: {
    conditions: 'Ready=False, Expired=True',
    meaning:
      'The grant was refused (invalid_grant), for example an audience the client is not authorised for.',
    action: 'Authorise the client for the audience, or fix the request.',
  },
  ReauthorizationRequired: {
    conditions: 'Ready=False, Expired=True',
    meaning:
      'The refresh token was refused (expired, revoked, or already rotated). A human must authorise again.',
    action: 'Put a new refresh token in the credentials Secret.',
  },
  InvalidScope: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The server refused the requested scopes (invalid_scope).',
    action: 'Request only scopes granted to the client.',
  },
  InvalidTarget: {
    conditions: 'Ready=False, Expired=True',
    meaning:
      'The server refused the requested audience or resource (invalid_target). Not retried until something changes.',
    action: 'Request an audience the client is authorised for, or authorise it at the server.',
  },
  TokenRequestFailed: {
    conditions: 'Ready=False, Expired=True',
    meaning: 'The token endpoint returned another OAuth error; its error code is in the message.',
    action: 'Read the message; coffre retries with backoff.',
  },
  TokenExpired: {
    conditions: 'Expired=True',
    meaning: 'The token has passed its expiry (used when no more specific cause is known).',
    action: 'See the Ready condition for the cause.',
  },
  NoToken: {
    conditions: 'Expired=False',
    meaning: 'No token has been issued yet, so none has expired.',
    action: 'None.',
  },
  DoesNotExpire: {
    conditions: 'Expired=False',
    meaning: 'The connection type holds static credentials without expiry.',
    action: 'None.',
  },
};
