// The two kinds of coffre.dev/v1alpha1: their whole-object schemas and the CRD facts (names, columns)
// from which crds/, schemas/ and docs/api.md are generated.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { OAuthClientSpecSchema, OAuthClientStatusSchema } from './oauth-client.ts';
import { API_VERSION } from './group.ts';
import { VALIDATIONS, type ValidationRule } from './schema-kit.ts';
import {
  DEFAULT_TARGET_SUFFIX,
  VaultConnectionSpecSchema,
  VaultConnectionStatusSchema,
} from './vault-connection.ts';

export { API_VERSION, GROUP, VERSION } from './group.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface ResourceDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  schema: TSchema;
  columns: PrinterColumn[];
}

const readyColumns: PrinterColumn[] = [
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Whether the resource is ready.',
  },
  {
    name: 'Status',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: 'Reason of the Ready condition.',
  },
];
const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

// metadata is validated by the API server; offline validators only need its shape.
const ObjectMetaSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
  },
  { additionalProperties: true, description: 'Standard object metadata.' },
);

function objectSchema<K extends string, S extends TSchema, T extends TSchema>(
  kind: K,
  description: string,
  spec: S,
  status: T,
  rules: ValidationRule[] = [],
) {
  return Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION, { description: `\`${API_VERSION}\`` }),
      kind: Type.Literal(kind, { description: `\`${kind}\`` }),
      metadata: ObjectMetaSchema,
      spec,
      // Read back (from etcd) as observedGeneration 0 until coffre writes a status: kstatus then computes
      // an object coffre has not seen yet as InProgress (generation 1 not observed), not as Current.
      // Status only: Git never holds it, so GitOps tools see no drift.
      status: Type.Optional({ ...status, default: { observedGeneration: 0 } } as T),
    },
    { additionalProperties: false, description, ...(rules.length > 0 ? { [VALIDATIONS]: rules } : {}) },
  );
}

export const VaultConnectionSchema = objectSchema(
  'VaultConnection',
  'A connection to an outside service whose credentials coffre keeps in Secrets, minting and refreshing tokens where the type has them.',
  VaultConnectionSpecSchema,
  VaultConnectionStatusSchema,
  [
    {
      rule: `has(self.spec.target) && has(self.spec.target.name) || size(self.metadata.name) <= ${253 - DEFAULT_TARGET_SUFFIX.length}`,
      message: `metadata.name is too long to derive the target Secret name (<name>${DEFAULT_TARGET_SUFFIX}): set spec.target.name`,
      fieldPath: '.spec.target.name',
      reason: 'FieldValueRequired',
      check: (self: { metadata?: { name?: string }; spec?: { target?: { name?: string } } }) =>
        self.spec?.target?.name !== undefined ||
        (self.metadata?.name ?? '').length <= 253 - DEFAULT_TARGET_SUFFIX.length,
    },
    {
      rule: `!has(self.spec.credentialsRef) || (has(self.spec.target) && has(self.spec.target.name)) || self.spec.credentialsRef.name != self.metadata.name + '${DEFAULT_TARGET_SUFFIX}'`,
      message: `the default target Secret <name>${DEFAULT_TARGET_SUFFIX} is the credentials Secret: set spec.target.name or rename the credentials Secret`,
      fieldPath: '.spec.credentialsRef.name',
      reason: 'FieldValueForbidden',
      check: (self: {
        metadata?: { name?: string };
        spec?: { credentialsRef?: { name?: string }; target?: { name?: string } };
      }) =>
        self.spec?.credentialsRef === undefined ||
        self.spec.target?.name !== undefined ||
        self.spec.credentialsRef.name !== `${self.metadata?.name ?? ''}${DEFAULT_TARGET_SUFFIX}`,
    },
  ],
);
export type VaultConnection = Static<typeof VaultConnectionSchema> & { metadata: KubeObjectMeta };

export const OAuthClientSchema = objectSchema(
  'OAuthClient',
  'An OAuth 2.0 client registered at an authorisation server, shared by the connections of its namespace.',
  OAuthClientSpecSchema,
  OAuthClientStatusSchema,
);
export type OAuthClient = Static<typeof OAuthClientSchema> & { metadata: KubeObjectMeta };

/** The metadata fields coffre reads; the API server fills them in. */
export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const resources = {
  VaultConnection: {
    kind: 'VaultConnection',
    plural: 'vaultconnections',
    singular: 'vaultconnection',
    shortNames: ['vc'],
    description: VaultConnectionSchema.description ?? '',
    schema: VaultConnectionSchema,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Connection type.' },
      ...readyColumns,
      // A string, not a date: kubectl prints future dates as <invalid>.
      { name: 'Expires', type: 'string', jsonPath: '.status.expiresAt', description: 'Token expiry (UTC).' },
      ageColumn,
      {
        name: 'Secret',
        type: 'string',
        jsonPath: '.status.secretName',
        description: 'Target Secret.',
        priority: 1,
      },
      {
        name: 'Next-Refresh',
        type: 'string',
        jsonPath: '.status.nextRefreshTime',
        description: 'Next token renewal (UTC).',
        priority: 1,
      },
    ],
  },
  OAuthClient: {
    kind: 'OAuthClient',
    plural: 'oauthclients',
    singular: 'oauthclient',
    shortNames: ['oac'],
    description: OAuthClientSchema.description ?? '',
    schema: OAuthClientSchema,
    columns: [
      { name: 'Issuer', type: 'string', jsonPath: '.spec.issuer', description: 'Issuer.' },
      ...readyColumns,
      ageColumn,
      {
        name: 'Auth',
        type: 'string',
        jsonPath: '.status.authMethod',
        description: 'Client authentication method in use.',
        priority: 1,
      },
      {
        name: 'Token-Endpoint',
        type: 'string',
        jsonPath: '.status.tokenEndpoint',
        description: 'Resolved token endpoint.',
        priority: 1,
      },
    ],
  },
} as const satisfies Record<string, ResourceDefinition>;

export const CATEGORY = 'coffre';
