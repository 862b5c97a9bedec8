// VaultConnection: a connection to an outside service. Its credentials live in a Secret (or, for OAuth
// types, in a shared OAuthClient); coffre publishes what consumers need to a target Secret and, for token
// types, keeps a valid access token there.
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { Conditions } from './conditions.ts';
import {
  connectionTypeDefinitions,
  connectionTypes,
  ConnectionTypes,
  OAuthClientTypes,
  type ConnectionType,
} from '../../connection-types/definitions.ts';
import {
  OAUTH_CLIENT_ACCESS,
  REFERENCE,
  SECRET_ACCESS,
  WORKLOAD_RESTART_ACCESS,
  localReference,
} from './references.ts';
import {
  DNS_SUBDOMAIN_PATTERN,
  DURATION_PATTERN,
  ObjectName,
  StringEnum,
  StringMap,
  VALIDATIONS,
  strictObject,
  type ValidationRule,
} from './schema-kit.ts';

export { OAuthGrants, type OAuthGrant } from '../../connection-types/oauth2/definition.ts';
export const RolloutKinds = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type RolloutKind = (typeof RolloutKinds)[number];
export const RolloutRestartPolicies = ['OnCredentialChange', 'OnEveryChange'] as const;
export type RolloutRestartPolicy = (typeof RolloutRestartPolicies)[number];
export const DEFAULT_ROLLOUT_RESTART_POLICY: RolloutRestartPolicy = 'OnCredentialChange';

/** Suffix of the default target Secret name: `<connection name>-token`. */
export const DEFAULT_TARGET_SUFFIX = '-token';
/** Suffix of a connection's state Secret (rotated refresh tokens): `<connection name>-coffre-state`. */
export const STATE_SECRET_SUFFIX = '-coffre-state';
/** The longest force-refresh value status records (annotations may be far longer). */
export const MAX_FORCE_REFRESH_VALUE_LENGTH = 1024;

const RefreshSchema = Type.Object(
  {
    renewBeforePercentage: Type.Optional(
      Type.Integer({
        minimum: 5,
        maximum: 90,
        description:
          'Renew when this share of the token lifetime remains. Defaults to 33. Jitter of up to a tenth of the window is added so that tokens issued together are not renewed together.',
      }),
    ),
    renewBefore: Type.Optional(
      Type.String({
        maxLength: 32,
        pattern: DURATION_PATTERN,
        description:
          'Renew this long before expiry, e.g. `10m`. Capped at two thirds of the lifetime so a short-lived token is not renewed continuously.',
      }),
    ),
  },
  {
    ...strictObject,
    description:
      'When to renew tokens. Whatever the settings, renewal starts at least one second before expiry (at most half the lifetime) and never sooner than half a second after issue.',
    [VALIDATIONS]: [
      {
        rule: '!(has(self.renewBefore) && has(self.renewBeforePercentage))',
        message: 'set renewBefore or renewBeforePercentage, not both',
        check: (self: { renewBefore?: string; renewBeforePercentage?: number }) =>
          !(self.renewBefore !== undefined && self.renewBeforePercentage !== undefined),
      },
    ],
  },
);

/**
 * Secret types a target may have. Never `kubernetes.io/service-account-token`: the token controller
 * would write a service-account token into a Secret coffre owns, and a connection would then export it.
 */
export const TargetSecretTypes = [
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/dockerconfigjson',
  'kubernetes.io/tls',
] as const;

/**
 * Label and annotation prefixes a template may not set: the Kubernetes domains (whose keys drive
 * controllers, e.g. `kubernetes.io/service-account.name`) and coffre's own keys (whose values coffre
 * trusts). Subdomains count: `app.kubernetes.io/managed-by` is reserved too.
 */
export const ReservedKeyDomains = ['kubernetes.io', 'k8s.io', 'coffre.dev'] as const;

/** Whether a label or annotation key is in a reserved domain (the JS twin of the CEL rule below). */
export function isReservedKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash);
  return ReservedKeyDomains.some((reserved) => domain === reserved || domain.endsWith(`.${reserved}`));
}

const reservedKeyRule: ValidationRule = {
  rule: `self.all(k, !k.contains('/') || !(${ReservedKeyDomains.map(
    (d) => `k.split('/')[0] == '${d}' || k.split('/')[0].endsWith('.${d}')`,
  ).join(' || ')}))`,
  message: `keys in the ${ReservedKeyDomains.join(', ')} domains (and their subdomains) are reserved`,
  reason: 'FieldValueForbidden',
  check: (self: Record<string, string>) => !Object.keys(self).some(isReservedKey),
};

const templateMetadata = (what: string) =>
  StringMap({
    description: `Extra ${what} for the target Secret. Keys in the ${ReservedKeyDomains.map((d) => `\`${d}/\``).join(', ')} domains (and subdomains) are refused.`,
    maxProperties: 64,
    [VALIDATIONS]: [reservedKeyRule],
  });

const TargetSchema = Type.Object(
  {
    name: Type.Optional(
      ObjectName(
        `Name of the Secret coffre writes. Defaults to \`<connection name>${DEFAULT_TARGET_SUFFIX}\`. May not end in \`${STATE_SECRET_SUFFIX}\` (coffre's state Secrets) nor be the connection's credentials Secret.`,
      ),
    ),
    template: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(
            StringEnum(TargetSecretTypes, {
              description: 'Type of the target Secret. Defaults to `Opaque`.',
            }),
          ),
          labels: Type.Optional(templateMetadata('labels')),
          annotations: Type.Optional(templateMetadata('annotations')),
          data: Type.Optional(
            StringMap({
              description:
                'Keys to publish instead of the default keys. Values are text with `{{ .key }}` placeholders naming default keys (e.g. `Bearer {{ .access_token }}`); nothing else is evaluated.',
              maxProperties: 64,
            }),
          ),
        },
        { ...strictObject, description: 'Shape of the target Secret.' },
      ),
    ),
  },
  {
    ...strictObject,
    description: 'The Secret that consumers mount.',
    [VALIDATIONS]: [
      {
        rule: `!has(self.name) || !self.name.endsWith('${STATE_SECRET_SUFFIX}')`,
        message: `target.name may not end in ${STATE_SECRET_SUFFIX}: that suffix names coffre's state Secrets`,
        fieldPath: '.name',
        reason: 'FieldValueForbidden',
        check: (self: { name?: string }) => !(self.name ?? '').endsWith(STATE_SECRET_SUFFIX),
      },
    ],
  },
);

const RolloutTargetSchema = Type.Object(
  {
    kind: StringEnum(RolloutKinds, { description: 'Kind of the workload.' }),
    name: ObjectName('Name of the workload in the same namespace.'),
  },
  {
    ...strictObject,
    description:
      'A workload restarted when the published data changes. Whoever adds it must be allowed to `patch` that workload (admission policy).',
    [REFERENCE]: WORKLOAD_RESTART_ACCESS,
  },
);

/** Per-type settings blocks `spec.<type>`, from the type definitions; the CEL rules below tie each to its type. */
type SettingsBlocks = {
  [D in (typeof connectionTypeDefinitions)[number] as D['type']]: TOptional<D['settings']['schema']>;
};
const settingsBlocks = Object.fromEntries(
  connectionTypeDefinitions.map((definition) => [definition.type, Type.Optional(definition.settings.schema)]),
) as SettingsBlocks;

type SpecShape = Record<string, unknown> & {
  type?: string;
  credentialsRef?: unknown;
  oauthClientRef?: unknown;
  oauth2?: { grant?: string };
};

const specRules: ValidationRule[] = [
  ...ConnectionTypes.map((type): ValidationRule => ({
    rule: `!has(self.${type}) || self.type == '${type}'`,
    message: `spec.${type} is only allowed when type is ${type}`,
    fieldPath: `.${type}`,
    reason: 'FieldValueForbidden',
    check: (self: SpecShape) => self[type] === undefined || self.type === type,
  })),
  ...ConnectionTypes.filter((type) => connectionTypes[type].settings.required).map(
    (type): ValidationRule => ({
      rule: `self.type != '${type}' || has(self.${type})`,
      message: `type ${type} requires the spec.${type} settings block`,
      fieldPath: `.${type}`,
      reason: 'FieldValueRequired',
      check: (self: SpecShape) => self.type !== type || self[type] !== undefined,
    }),
  ),
  {
    rule: "!has(self.credentialsRef) || !has(self.oauthClientRef) || (self.type == 'oauth2' && has(self.oauth2) && has(self.oauth2.grant) && self.oauth2.grant == 'refresh_token')",
    message:
      'credentialsRef and oauthClientRef are mutually exclusive (except for oauth2 with grant refresh_token, where credentialsRef holds the refresh token)',
    fieldPath: '.oauthClientRef',
    reason: 'FieldValueForbidden',
    check: (self: SpecShape) =>
      self.credentialsRef === undefined ||
      self.oauthClientRef === undefined ||
      (self.type === 'oauth2' && self.oauth2?.grant === 'refresh_token'),
  },
  {
    rule: '!has(self.credentialsRef) || !has(self.target) || !has(self.target.name) || self.target.name != self.credentialsRef.name',
    message: 'target.name may not be the credentials Secret: coffre writes the target, never its input',
    fieldPath: '.target.name',
    reason: 'FieldValueForbidden',
    check: (self: SpecShape) =>
      self.credentialsRef === undefined ||
      (self as { target?: { name?: string } }).target?.name === undefined ||
      (self as { target?: { name?: string } }).target?.name !==
        (self.credentialsRef as { name?: string }).name,
  },
  {
    rule: `!has(self.revokeOnDelete) || !self.revokeOnDelete || self.type in [${OAuthClientTypes.map((t) => `'${t}'`).join(', ')}]`,
    message: `revokeOnDelete is only allowed for types ${OAuthClientTypes.join(' and ')} (RFC 7009 token revocation)`,
    fieldPath: '.revokeOnDelete',
    reason: 'FieldValueForbidden',
    check: (self: SpecShape) =>
      self.revokeOnDelete !== true || OAuthClientTypes.includes(self.type as ConnectionType),
  },
  {
    rule: `!has(self.oauthClientRef) || self.type in [${OAuthClientTypes.map((t) => `'${t}'`).join(', ')}]`,
    message: `oauthClientRef is only allowed for types ${OAuthClientTypes.join(' and ')}`,
    fieldPath: '.oauthClientRef',
    reason: 'FieldValueForbidden',
    check: (self: SpecShape) =>
      self.oauthClientRef === undefined || OAuthClientTypes.includes(self.type as ConnectionType),
  },
];

export const VaultConnectionSpecSchema = Type.Object(
  {
    type: StringEnum(ConnectionTypes, {
      description: 'The kind of service; decides the keys read and written.',
    }),
    credentialsRef: Type.Optional(
      localReference(
        SECRET_ACCESS,
        'Secret in the same namespace holding the credentials (keys per type in the API reference). Absent, missing or incomplete: the connection is Empty. Whoever sets it must be allowed to `get` that Secret (admission policy).',
      ),
    ),
    oauthClientRef: Type.Optional(
      localReference(
        OAUTH_CLIENT_ACCESS,
        'For auth0 and oauth2: a shared OAuthClient in the same namespace instead of credentialsRef. Whoever sets it must be allowed to `use` that OAuthClient (admission policy; coffre-edit carries the verb).',
      ),
    ),
    ...settingsBlocks,
    refresh: Type.Optional(RefreshSchema),
    target: Type.Optional(TargetSchema),
    rolloutRestartTargets: Type.Optional(
      Type.Array(RolloutTargetSchema, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['kind', 'name'],
        description:
          'Workloads restarted (like `kubectl rollout restart`) when the published data changes, as `rolloutRestartPolicy` says; never on the first publication, nor by an operator restart. Restarts are spaced 2 seconds apart across the operator, never all at once.',
      }),
    ),
    revokeOnDelete: Type.Optional(
      Type.Boolean({
        description:
          "When the connection is deleted, revoke its access and refresh tokens at the authorisation server (RFC 7009, at the OAuthClient's `revocationEndpoint`, else the `revocation_endpoint` of the issuer's discovery metadata, with the client's authentication). Through the finalizer `coffre.dev/revoke-tokens`, added only while this is in effect and released after at most 30 seconds even when the endpoint is down (a `RevocationFailed` Warning Event then says so), so deleting a namespace never hangs. A token still used by another connection in the namespace (the same OAuthClient or credentials) is left alone. Defaults to the OAuthClient's `revokeOnDelete`, else false.",
      }),
    ),
    rolloutRestartPolicy: Type.Optional(
      StringEnum(RolloutRestartPolicies, {
        description:
          'When `rolloutRestartTargets` restart. `OnCredentialChange` (the default): when the published data changes because the credentials, the OAuthClient, the template or anything else in the spec changed — not on a routine token renewal or a force-refresh, after which a workload that reads the mounted file has the new token without a restart. `OnEveryChange`: on every change of the published data, renewals included (for workloads that read the Secret only at start, e.g. as environment variables).',
      }),
    ),
  },
  {
    ...strictObject,
    description: 'The desired connection.',
    [VALIDATIONS]: specRules,
  },
);
export type VaultConnectionSpec = Static<typeof VaultConnectionSpecSchema>;
export type RefreshSettings = Static<typeof RefreshSchema>;
export type TargetSettings = Static<typeof TargetSchema>;

export const VaultConnectionStatusSchema = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description:
          'The generation this status describes; 0 (the schema default) until coffre has written a status, so that kstatus reads an object coffre has not seen yet as in progress.',
      }),
    ),
    secretName: Type.Optional(
      Type.String({ pattern: DNS_SUBDOMAIN_PATTERN, description: 'Name of the target Secret.' }),
    ),
    expiresAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the published token expires.' }),
    ),
    lastRefreshTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When coffre last obtained a token.' }),
    ),
    nextRefreshTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When coffre will next renew the token.' }),
    ),
    grantedScopes: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 256,
        'x-kubernetes-list-type': 'atomic',
        description: 'Scopes the server granted (as it reported them).',
      }),
    ),
    failedAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        format: 'int32',
        description:
          "Consecutive failed token requests (like cert-manager's `failedIssuanceAttempts`); absent after a success. The backoff grows with it, also across operator restarts and leader changes.",
      }),
    ),
    lastFailureTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the last token request failed.' }),
    ),
    nextRetryTime: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'No token request before this time (the backoff, or a Retry-After the server sent), also after an operator restart. Absent after a terminal error, which waits for a change of the spec or credentials, a force-refresh or an operator restart.',
      }),
    ),
    failedRequest: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{16}$',
        description:
          "Keyed digest of what the failed request was made with (the operator's record key): a connection whose spec or credentials changed since is retried at once.",
      }),
    ),
    observedForceRefresh: Type.Optional(
      Type.String({
        maxLength: MAX_FORCE_REFRESH_VALUE_LENGTH,
        description:
          'The `coffre.dev/force-refresh` value coffre last processed: a new token (or, for static types, the credentials re-read) was published for it, or Ready says why not. Wait for a renewal with `kubectl wait --for=jsonpath={.status.observedForceRefresh}=VALUE vc/NAME`. A value longer than 1024 characters is not recorded.',
      }),
    ),
  },
  { ...strictObject, description: 'Observed state of the connection. Never holds secret material.' },
);
export type VaultConnectionStatus = Static<typeof VaultConnectionStatusSchema>;
