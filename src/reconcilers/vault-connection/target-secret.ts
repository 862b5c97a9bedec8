// The target Secret: what consumers mount. coffre creates it owned by its connection (so deleting the
// connection deletes it), labels it, records what the token was requested with in annotations (so a
// restarted operator can tell a valid token from a stale one without reading its data), and never
// adopts or overwrites a Secret it does not own.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import {
  CONNECTION_LABEL,
  DATA_HASH_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  FORCE_REFRESH_HANDLED_ANNOTATION,
  GRANTED_SCOPES_ANNOTATION,
  ISSUED_AT_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  RECORD_SIGNATURE_ANNOTATION,
  REQUEST_HASH_ANNOTATION,
} from '../../api/v1alpha1/metadata-keys.ts';
import { API_VERSION, type VaultConnection } from '../../api/v1alpha1/resources.ts';
import type { TargetSettings } from '../../api/v1alpha1/vault-connection.ts';
import { dataHash } from '../../secrets/data-hash.ts';
import type { RecordKey } from '../../secrets/record-key.ts';
import type { SecretValue } from '../../secrets/secret-value.ts';
import { TemplateTooLargeError, renderTemplate } from '../../secrets/template.ts';

/** What a target Secret's annotations say about the token it holds. */
export interface PublishedRecord {
  dataHash: string;
  requestHash?: string;
  issuedAt?: number;
  expiresAt?: number;
  grantedScopes?: string[];
  forceRefreshHandled?: string;
}

export function ownerReference(connection: VaultConnection): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'VaultConnection',
    name: connection.metadata.name ?? '',
    uid: connection.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isOwnedBy(secret: V1Secret, connection: VaultConnection): boolean {
  return (secret.metadata?.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.uid === connection.metadata.uid,
  );
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The annotations the record signature covers, in a fixed order. */
const SIGNED_ANNOTATIONS = [
  DATA_HASH_ANNOTATION,
  REQUEST_HASH_ANNOTATION,
  ISSUED_AT_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  GRANTED_SCOPES_ANNOTATION,
  FORCE_REFRESH_HANDLED_ANNOTATION,
] as const;

function signedParts(
  connection: VaultConnection,
  name: string,
  type: string,
  annotations: Readonly<Record<string, string>>,
): string[] {
  return [
    connection.metadata.uid ?? '',
    connection.metadata.namespace ?? '',
    name,
    type,
    // '-' for absent, 's' before a value: an absent annotation never signs like an empty one.
    ...SIGNED_ANNOTATIONS.map((key) => (annotations[key] === undefined ? '-' : `s${annotations[key]}`)),
  ];
}

function decodedData(secret: V1Secret): Map<string, string> {
  return new Map(
    Object.entries(secret.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

/**
 * What the target Secret says it holds, if coffre wrote it as it stands: the data must hash to the
 * recorded hash and the record must carry coffre's signature. A token planted in the Secret, or an
 * `expires-at` pushed back by hand to suppress renewal, gives undefined: nothing is trusted, reused or
 * shared, and coffre publishes afresh.
 */
export function trustedRecord(
  secret: V1Secret | undefined,
  connection: VaultConnection,
  key: RecordKey,
): PublishedRecord | undefined {
  const record = readRecord(secret);
  if (secret === undefined || record === undefined) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  const signature = annotations[RECORD_SIGNATURE_ANNOTATION];
  if (signature === undefined || dataHash(decodedData(secret)) !== record.dataHash) return undefined;
  const parts = signedParts(connection, secret.metadata?.name ?? '', secret.type ?? 'Opaque', annotations);
  return key.verify('target-record', parts, signature) ? record : undefined;
}

/** The annotation put on restarted workloads: keyed, so that it says nothing about the data. */
export function restartedForValue(connection: VaultConnection, hash: string, key: RecordKey): string {
  return key.mac('restarted-for', [connection.metadata.uid ?? '', hash]).slice(0, 16);
}

/** What the annotations say, unverified (see trustedRecord). */
export function readRecord(secret: V1Secret | undefined): PublishedRecord | undefined {
  const annotations = secret?.metadata?.annotations;
  const hash = annotations?.[DATA_HASH_ANNOTATION];
  if (annotations === undefined || hash === undefined) return undefined;
  const scopes = annotations[GRANTED_SCOPES_ANNOTATION];
  const record: PublishedRecord = { dataHash: hash };
  const requestHash = annotations[REQUEST_HASH_ANNOTATION];
  const issuedAt = parseTime(annotations[ISSUED_AT_ANNOTATION]);
  const expiresAt = parseTime(annotations[EXPIRES_AT_ANNOTATION]);
  const handled = annotations[FORCE_REFRESH_HANDLED_ANNOTATION];
  if (requestHash !== undefined) record.requestHash = requestHash;
  if (issuedAt !== undefined) record.issuedAt = issuedAt;
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  if (scopes !== undefined) record.grantedScopes = scopes === '' ? [] : scopes.split(' ');
  if (handled !== undefined) record.forceRefreshHandled = handled;
  return record;
}

export interface DesiredTarget {
  name: string;
  /** Published key -> value (plain text, revealed only here, on its way into the Secret). */
  data: Map<string, string>;
  dataHash: string;
  record: PublishedRecord;
}

/** Renders the published values through the template (if any); throws TemplateError. */
export function desiredTarget(
  name: string,
  published: ReadonlyMap<string, SecretValue>,
  template: TargetSettings['template'],
  record: Omit<PublishedRecord, 'dataHash'>,
  maxBytes = Number.POSITIVE_INFINITY,
): DesiredTarget {
  const plain = new Map([...published].map(([key, value]) => [key, value.reveal()]));
  const data = template?.data === undefined ? plain : renderTemplate(template.data, plain, maxBytes);
  // Without a template the data is the published keys as they are: the same limit applies.
  let size = 0;
  for (const [key, value] of data) size += Buffer.byteLength(key) + Buffer.byteLength(value);
  if (size > maxBytes) throw new TemplateTooLargeError(maxBytes);
  const hash = dataHash(data);
  return { name, data, dataHash: hash, record: { ...record, dataHash: hash } };
}

/** The full Secret object to write, from scratch or over an existing one we own. */
export function targetSecretObject(
  connection: VaultConnection,
  desired: DesiredTarget,
  template: TargetSettings['template'],
  existing: V1Secret | undefined,
  key: RecordKey,
): V1Secret {
  const { record } = desired;
  const annotations: Record<string, string> = {
    ...(template?.annotations ?? {}),
    [DATA_HASH_ANNOTATION]: record.dataHash,
  };
  if (record.requestHash !== undefined) annotations[REQUEST_HASH_ANNOTATION] = record.requestHash;
  // Millisecond precision: the renewal schedule is recomputed from these after a restart and must come
  // out exactly as before (status and the data's expires_at keep whole seconds).
  if (record.issuedAt !== undefined)
    annotations[ISSUED_AT_ANNOTATION] = new Date(record.issuedAt).toISOString();
  if (record.expiresAt !== undefined)
    annotations[EXPIRES_AT_ANNOTATION] = new Date(record.expiresAt).toISOString();
  if (record.grantedScopes !== undefined)
    annotations[GRANTED_SCOPES_ANNOTATION] = record.grantedScopes.join(' ');
  if (record.forceRefreshHandled !== undefined)
    annotations[FORCE_REFRESH_HANDLED_ANNOTATION] = record.forceRefreshHandled;
  const type = template?.type ?? existing?.type ?? 'Opaque';
  annotations[RECORD_SIGNATURE_ANNOTATION] = key.mac(
    'target-record',
    signedParts(connection, desired.name, type, annotations),
  );
  const data: Record<string, string> = {};
  for (const [name, value] of desired.data) data[name] = Buffer.from(value, 'utf8').toString('base64');
  return {
    metadata: {
      name: desired.name,
      namespace: connection.metadata.namespace ?? '',
      ...(existing?.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: existing.metadata.resourceVersion }),
      labels: {
        ...(template?.labels ?? {}),
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [CONNECTION_LABEL]: connection.metadata.name ?? '',
      },
      annotations,
      ownerReferences: [ownerReference(connection)],
    },
    type,
    data,
  };
}

/** Whether the existing Secret already says exactly what we would write (then nothing is written). */
export function upToDate(existing: V1Secret | undefined, wanted: V1Secret): boolean {
  if (existing === undefined) return false;
  const same = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) =>
    JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
  const existingData = new Map(
    Object.entries(existing.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
  const wantedMeta = wanted.metadata ?? {};
  return (
    dataHash(existingData) === wantedMeta.annotations?.[DATA_HASH_ANNOTATION] &&
    same(existing.metadata?.annotations, wantedMeta.annotations) &&
    same(existing.metadata?.labels, wantedMeta.labels) &&
    existing.type === wanted.type &&
    isOwnedByReference(existing, wanted)
  );
}

function isOwnedByReference(existing: V1Secret, wanted: V1Secret): boolean {
  const uid = wanted.metadata?.ownerReferences?.[0]?.uid;
  return (existing.metadata?.ownerReferences ?? []).some((ref) => ref.uid === uid && ref.controller === true);
}
