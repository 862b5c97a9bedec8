// Labels and annotations that are part of coffre's API: users and tools may rely on them.

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'coffre';
/** On target and state Secrets: the name of the VaultConnection that owns them. */
export const CONNECTION_LABEL = 'coffre.dev/connection';

/** On a VaultConnection: set to a new value (e.g. a timestamp) to obtain a new token (or re-read static credentials) at once. */
export const FORCE_REFRESH_ANNOTATION = 'coffre.dev/force-refresh';
/** On a target Secret: SHA-256 of the published data; changes only when the data does. */
export const DATA_HASH_ANNOTATION = 'coffre.dev/data-hash';
/** On a target Secret: fingerprint of what the token was requested with (endpoint, client, audience, scopes, credentials). */
export const REQUEST_HASH_ANNOTATION = 'coffre.dev/request-hash';
/** On a target Secret: the force-refresh value last honoured. */
export const FORCE_REFRESH_HANDLED_ANNOTATION = 'coffre.dev/force-refresh-handled';
/** On a target Secret: when the published token was requested (RFC 3339). */
export const ISSUED_AT_ANNOTATION = 'coffre.dev/issued-at';
/** On a target Secret: when the published token expires (RFC 3339); absent for static credentials. */
export const EXPIRES_AT_ANNOTATION = 'coffre.dev/expires-at';
/** On a target Secret: the scopes the server granted, space separated. */
export const GRANTED_SCOPES_ANNOTATION = 'coffre.dev/granted-scopes';
/** On a target Secret: HMAC of what coffre recorded (data and the annotations above), with the operator's key. */
export const RECORD_SIGNATURE_ANNOTATION = 'coffre.dev/record-signature';
/** On a state Secret: what it is (`refresh-token`). */
export const STATE_ROLE_LABEL = 'coffre.dev/role';

/** On a VaultConnection with revokeOnDelete in effect: revoke its tokens before it goes. */
export const REVOKE_FINALIZER = 'coffre.dev/revoke-tokens';

/**
 * On the pod template of a rollout restart target: 16 hex digits of a keyed HMAC (record key) over the
 * connection's UID and the data hash that caused the last restart — never the data hash itself.
 */
export const RESTARTED_FOR_ANNOTATION = 'coffre.dev/restarted-for';

export const metadataKeyDocs: readonly { key: string; on: string; meaning: string }[] = [
  {
    key: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    on: 'Secrets coffre writes',
    meaning:
      'Marks Secrets coffre manages; coffre watches only these (and the Secrets connections reference).',
  },
  { key: CONNECTION_LABEL, on: 'Secrets coffre writes', meaning: 'Name of the owning VaultConnection.' },
  {
    key: FORCE_REFRESH_ANNOTATION,
    on: 'VaultConnection',
    meaning:
      'Set to a new value (e.g. `date +%s`) to obtain a new token at once (static types: read the credentials Secret again and publish it again): `kubectl annotate vc NAME coffre.dev/force-refresh=$(date +%s) --overwrite`. `status.observedForceRefresh` records the value once processed.',
  },
  {
    key: DATA_HASH_ANNOTATION,
    on: 'target Secret',
    meaning:
      'The data hash: 64 hex digits, SHA-256 over the published keys and values (sorted by key, length-prefixed); changes only when the data changes. Use it to restart workloads yourself.',
  },
  {
    key: REQUEST_HASH_ANNOTATION,
    on: 'target Secret',
    meaning:
      'Fingerprint of the token request (endpoint, client, audience, scopes and a salted digest of the credentials); a change makes coffre mint a new token.',
  },
  {
    key: FORCE_REFRESH_HANDLED_ANNOTATION,
    on: 'target Secret',
    meaning: 'The force-refresh value coffre last honoured.',
  },
  {
    key: ISSUED_AT_ANNOTATION,
    on: 'target Secret',
    meaning: 'When the published token was requested (RFC 3339).',
  },
  {
    key: EXPIRES_AT_ANNOTATION,
    on: 'target Secret',
    meaning: 'When the published token expires (RFC 3339); lets tools check expiry without reading the data.',
  },
  {
    key: GRANTED_SCOPES_ANNOTATION,
    on: 'target Secret',
    meaning: 'Scopes the server granted, space separated.',
  },
  {
    key: RECORD_SIGNATURE_ANNOTATION,
    on: 'target Secret',
    meaning:
      "HMAC of the published data and of coffre's annotations above, keyed by the operator's record key: after a restart, a token is trusted only if it matches (a planted token or an edited expires-at makes coffre mint a new one).",
  },
  {
    key: `${STATE_ROLE_LABEL}=refresh-token`,
    on: 'state Secret `<connection>-coffre-state`',
    meaning:
      'Holds the latest rotated refresh token of a connection (refresh_token grants) in its key `refresh_token`; owned by the connection, never mounted by consumers.',
  },
  {
    key: REVOKE_FINALIZER,
    on: 'VaultConnection (finalizer)',
    meaning:
      'Present while `revokeOnDelete` is in effect: on deletion coffre revokes the tokens, then removes it (after at most 30 s, revoked or not). Without a running operator it stays: `kubectl patch vc NAME --type=json -p \'[{"op":"remove","path":"/metadata/finalizers"}]\'` releases it.',
  },
  {
    key: RESTARTED_FOR_ANNOTATION,
    on: 'pod template of a rolloutRestartTargets workload',
    meaning:
      "16 hex digits: the first 64 bits of an HMAC-SHA256, keyed by the operator's record key, over the connection's UID and the data hash that caused the last restart. Not the data hash itself, which it never equals (viewers can read pod templates: no plain hash of secret data); changing it is what restarts the pods. Set as `spec.rolloutRestartPolicy` says, at most one workload every 2 seconds across the operator.",
  },
];
