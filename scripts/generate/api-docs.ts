// docs/api.md from the API source: field tables, CEL rules, connection types, conditions and reasons.
import { reasonCatalogue, type Reason } from '../../src/api/v1alpha1/conditions.ts';
import { reasonHealth, type ReasonHealth } from '../../src/api/v1alpha1/health.ts';
import { ConnectionTypes, connectionTypes } from '../../src/connection-types/definitions.ts';
import { metadataKeyDocs } from '../../src/api/v1alpha1/metadata-keys.ts';
import {
  API_VERSION,
  CATEGORY,
  resources,
  type ResourceDefinition,
} from '../../src/api/v1alpha1/resources.ts';
import { toPlainJson } from '../../src/api/v1alpha1/schema-kit.ts';

/** The parts of a JSON schema node that the reference shows. */
interface Json {
  type?: string;
  description?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  format?: string;
  required?: string[];
  properties?: Record<string, Json>;
  items?: Json;
  additionalProperties?: unknown;
  'x-kubernetes-validations'?: { message: string }[];
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  description: string;
  constraints: string[];
}

const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function typeOf(schema: Json): string {
  if (Array.isArray(schema.enum)) return 'enum';
  const type = schema.type;
  if (type === 'array') return `[]${typeOf(schema.items ?? {})}`;
  if (
    type === 'object' &&
    schema.additionalProperties !== undefined &&
    schema.additionalProperties !== false
  ) {
    return 'map[string]string';
  }
  return type ?? 'any';
}

function constraintsOf(schema: Json): string[] {
  const out: string[] = [];
  if (Array.isArray(schema.enum)) out.push(`one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`);
  if (schema.pattern !== undefined) out.push(`pattern \`${schema.pattern}\``);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    out.push(`length ${schema.minLength ?? 0}..${schema.maxLength ?? '∞'}`);
  }
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    out.push(`${schema.minimum ?? '-∞'}..${schema.maximum ?? '∞'}`);
  }
  if (schema.maxItems !== undefined) out.push(`at most ${schema.maxItems} items`);
  if (schema.format !== undefined) out.push(`format ${schema.format}`);
  for (const rule of schema['x-kubernetes-validations'] ?? []) out.push(`rule: ${rule.message}`);
  return out;
}

function rows(schema: Json, path: string, required: boolean, into: Row[]): void {
  into.push({
    path,
    type: typeOf(schema),
    required,
    description: schema.description ?? '',
    constraints: constraintsOf(schema),
  });
  const properties = schema.properties;
  if (properties !== undefined) {
    const requiredNames = new Set(schema.required ?? []);
    for (const [name, sub] of Object.entries(properties))
      rows(sub, `${path}.${name}`, requiredNames.has(name), into);
  }
  const items = schema.items;
  if (items?.properties !== undefined) {
    const requiredNames = new Set(items.required ?? []);
    for (const [name, sub] of Object.entries(items.properties)) {
      rows(sub, `${path}[].${name}`, requiredNames.has(name), into);
    }
  }
}

function fieldTable(resource: ResourceDefinition, part: 'spec' | 'status'): string {
  const schema = toPlainJson(resource.schema) as Json;
  const partSchema = schema.properties?.[part] ?? {};
  const collected: Row[] = [];
  rows(partSchema, part, part === 'spec', collected);
  const lines = ['| Field | Type | Required | Description | Constraints |', '|---|---|---|---|---|'];
  for (const row of collected.slice(1)) {
    lines.push(
      `| \`${row.path}\` | ${escapeCell(row.type)} | ${row.required ? 'yes' : ''} | ${escapeCell(row.description)} | ${escapeCell(row.constraints.join('; '))} |`,
    );
  }
  const objectRules = constraintsOf(partSchema).filter((c) => c.startsWith('rule: '));
  const rootRules = constraintsOf(schema).filter((c) => c.startsWith('rule: '));
  const ruleLines = [...objectRules, ...rootRules].map((rule) => `- ${rule.slice('rule: '.length)}`);
  return [
    lines.join('\n'),
    ruleLines.length > 0 ? `\nRules on \`${part}\` as a whole:\n\n${ruleLines.join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function columnsTable(resource: ResourceDefinition): string {
  const lines = ['| Column | From | Shown |', '|---|---|---|'];
  for (const column of resource.columns) {
    lines.push(
      `| ${column.name.toUpperCase()} | \`${column.jsonPath}\` | ${column.priority ? '`-o wide`' : 'always'} |`,
    );
  }
  return lines.join('\n');
}

function connectionTypesSection(): string {
  const parts: string[] = [];
  for (const type of ConnectionTypes) {
    const info = connectionTypes[type];
    const variants =
      info.variants.length === 0
        ? ''
        : [
            '| Variant | Keys in the credentials Secret | Meaning |',
            '|---|---|---|',
            ...info.variants.map(
              (v) =>
                `| ${v.name} | ${v.keys.map((k) => `\`${k}\``).join(', ')} | ${escapeCell(v.description)} |`,
            ),
          ].join('\n');
    const published = [
      '| Key in the target Secret | Meaning |',
      '|---|---|',
      ...Object.entries(info.published).map(([key, meaning]) => `| \`${key}\` | ${escapeCell(meaning)} |`),
    ].join('\n');
    const oauth =
      info.oauthClient === 'no'
        ? 'Takes no OAuthClient.'
        : info.oauthClient === 'required'
          ? 'Requires `spec.oauthClientRef`.'
          : 'Credentials come from `spec.credentialsRef` or, instead, a shared OAuthClient (`spec.oauthClientRef`).';
    const expiry =
      info.tokens === 'always'
        ? 'Tokens expire and are renewed.'
        : info.tokens === 'variant'
          ? 'Whether tokens expire depends on the variant.'
          : 'Static credentials: no expiry.';
    parts.push(`### \`${type}\`\n\n${info.summary} ${oauth} ${expiry}\n\n${variants}\n\n${published}`);
  }
  return parts.join('\n\n');
}

const HEALTH_COLUMN: Record<ReasonHealth, string> = {
  ready: 'ready',
  progressing: 'Reconciling=True',
  empty: 'empty',
  transient: 'Reconciling=True (retried)',
  stalled: 'Stalled=True',
  detail: '',
};

function reasonsTable(): string {
  const lines = ['| Reason | On | Health | Meaning | What to do |', '|---|---|---|---|---|'];
  for (const [reason, doc] of Object.entries(reasonCatalogue)) {
    const health = HEALTH_COLUMN[reasonHealth[reason as Reason]];
    lines.push(
      `| \`${reason}\` | ${doc.conditions} | ${health} | ${escapeCell(doc.meaning)} | ${escapeCell(doc.action)} |`,
    );
  }
  return lines.join('\n');
}

function metadataTable(): string {
  return [
    '| Key | On | Meaning |',
    '|---|---|---|',
    ...metadataKeyDocs.map((d) => `| \`${d.key}\` | ${d.on} | ${escapeCell(d.meaning)} |`),
  ].join('\n');
}

export function apiReference(): string {
  const vc = resources.VaultConnection;
  const oac = resources.OAuthClient;
  return `<!-- Generated by \`npm run generate\` from src/api/v1alpha1. Do not edit. -->
# API reference: \`${API_VERSION}\`

Two namespaced kinds, both in the category \`${CATEGORY}\` (\`kubectl get ${CATEGORY}\` lists them):

- [\`VaultConnection\`](#vaultconnection) (short name \`${vc.shortNames.join('`, `')}\`): ${vc.description}
- [\`OAuthClient\`](#oauthclient) (short name \`${oac.shortNames.join('`, `')}\`): ${oac.description}

Rules that hold everywhere:

- Secret material lives only in Secrets: never in spec, status, events, logs, metrics or condition messages.
- References name objects in the resource's own namespace; a \`namespace\` field that names another one is refused (reason \`CrossNamespaceReference\`).
- coffre never writes to \`spec\`: every default below is resolved by the operator, not stored.
- The API server enforces the rules marked "rule:" (CEL); the operator checks them again and reports \`InvalidSpec\` naming the field.

Offline JSON schemas (kubeconform, editors) are in [\`schemas/\`](../schemas/):
\`kubeconform -schema-location default -schema-location 'schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'\`.

## VaultConnection

### Spec

${fieldTable(vc, 'spec')}

### Status

${fieldTable(vc, 'status')}

### Columns

${columnsTable(vc)}

## Connection types

${connectionTypesSection()}

## OAuthClient

### Spec

${fieldTable(oac, 'spec')}

### Status

${fieldTable(oac, 'status')}

### Columns

${columnsTable(oac)}

## Conditions

Conditions follow \`metav1.Condition\`. \`lastTransitionTime\` changes only when \`status\` flips, and
\`observedGeneration\` says which generation a condition describes, so \`kubectl wait --for=condition=Ready\`,
Argo CD and Flux (kstatus) read them directly.

- **Ready**: credentials are present and, for token types, a valid unexpired token is in the target Secret.
- **Empty**: the connection has no credentials yet (no reference, Secret missing, or required keys missing or blank). Not an error: a GitOps repository may declare the connection before anyone supplies the secret.
- **Expired**: the token in the target Secret has passed its expiry and no fresh one could be obtained; the reason says why.
- **Reconciling** (kstatus): \`True\` while coffre works toward what the spec asks — at once when it first sees an OAuthClient, while a first token or one for a changed spec or credentials takes more than a second, while a renewal takes more than a second (\`Renewing\`; a quick request writes only its outcome, so a new connection and a refresh stay at two writes), and while it retries a failure that can heal by itself (the reason is the failure's). \`False\` otherwise.
- **Stalled** (kstatus): \`True\` when coffre cannot make progress without a person: the reason is the one of Ready (or, while Ready is \`RenewalFailing\`, of the failed renewal), and nothing is retried until the spec, a Secret or an OAuthClient changes. \`False\` otherwise.

Ready means a valid unexpired token is in the target Secret: a renewal that fails while the published token
is still valid keeps \`Ready=True\` with reason \`RenewalFailing\` (the message says until when, and Reconciling
or Stalled carries the failure) until the token expires; then \`Ready=False\` and \`Expired=True\`, both with the
failure's reason. An Empty connection is neither Reconciling nor Stalled. Reconciling and Stalled take
the reason that decided them and raise no Event of their own (Ready does). Which reason means what is one
table in the source (\`src/api/v1alpha1/health.ts\`), the Health column below; what kstatus, Flux and
Argo CD make of each state is in [docs/gitops.md](gitops.md#health).

### Reasons

${reasonsTable()}

## Labels and annotations

${metadataTable()}
`;
}

export function apiDocsFiles(): Map<string, string> {
  return new Map([['docs/api.md', apiReference()]]);
}
