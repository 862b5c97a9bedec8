// What an informer does to each object before caching it. Shallow: the rest of the object is shared.
import type { KubeObject } from './types.ts';

/** Written by `kubectl apply` (client-side): a copy of the whole object, never read by a controller. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Removes managedFields, often larger than the rest of the metadata and never read by controllers. */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** Keeps only what PartialObjectMetadata carries (apiVersion, kind, metadata), whatever was sent. */
export function toMetadataOnly<T extends KubeObject>(object: T): T {
  const { apiVersion, kind, metadata } = object;
  return { apiVersion, kind, metadata } as T;
}

/**
 * One copy of each string that thousands of cached objects repeat (apiVersion, kind, namespace, label
 * and annotation keys, condition reasons). JSON.parse makes a new string for every value longer than a
 * few characters, so 10,000 connections would otherwise hold 10,000 copies of "coffre.dev/v1alpha1".
 * Bounded: once full, strings pass through unshared, so names a tenant chooses cannot grow it.
 */
export class StringPool {
  readonly #strings = new Map<string, string>();
  readonly #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  intern(value: string): string {
    const known = this.#strings.get(value);
    if (known !== undefined) return known;
    if (this.#strings.size < this.#max) this.#strings.set(value, value);
    return value;
  }

  get size(): number {
    return this.#strings.size;
  }
}

type Metadata = NonNullable<KubeObject['metadata']>;

function internKeys(
  record: Readonly<Record<string, string>> | undefined,
  pool: StringPool,
): Record<string, string> | undefined {
  if (record === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key === LAST_APPLIED_ANNOTATION) continue;
    out[pool.intern(key)] = value;
  }
  return out;
}

/**
 * The metadata a controller reads, compacted: no managedFields, no last-applied copy of the object, and
 * its repeated strings shared (namespace, label and annotation keys, owner kinds). Values stay as
 * they are: many are one per object (a connection's name, a hash) and would only fill the pool.
 */
export function compactMetadata(metadata: Metadata, pool: StringPool): Metadata {
  const { managedFields: _managed, ...rest } = metadata;
  const out: Metadata = { ...rest };
  if (rest.namespace !== undefined) out.namespace = pool.intern(rest.namespace);
  const labels = internKeys(rest.labels, pool);
  if (labels !== undefined) out.labels = labels;
  const annotations = internKeys(rest.annotations, pool);
  if (annotations !== undefined) out.annotations = annotations;
  if (rest.ownerReferences !== undefined) {
    out.ownerReferences = rest.ownerReferences.map((ref) => ({
      ...ref,
      apiVersion: pool.intern(ref.apiVersion),
      kind: pool.intern(ref.kind),
    }));
  }
  return out;
}

interface WithConditions {
  status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] };
}

/**
 * The informers' default transform: compactMetadata, and apiVersion, kind, a Secret's type and the
 * type/status/reason of status conditions shared. Condition messages go through a pool of their own:
 * most repeat ("all required credentials are present"), some name the object and would fill the main
 * pool (bounded too: once full, messages pass through unshared). Everything else is kept as received.
 */
export function createCompactor(pool: StringPool = new StringPool(), messages = new StringPool(1024)) {
  return function compact<T extends KubeObject>(object: T): T {
    const out: KubeObject & WithConditions & { type?: unknown } = { ...object };
    if (object.apiVersion !== undefined) out.apiVersion = pool.intern(object.apiVersion);
    if (object.kind !== undefined) out.kind = pool.intern(object.kind);
    if (object.metadata !== undefined) out.metadata = compactMetadata(object.metadata, pool);
    if (typeof out.type === 'string') out.type = pool.intern(out.type);
    const conditions = out.status?.conditions;
    if (Array.isArray(conditions)) {
      out.status = {
        ...out.status,
        conditions: conditions.map((c) => ({
          ...c,
          ...(typeof c.type === 'string' ? { type: pool.intern(c.type) } : {}),
          ...(typeof c.status === 'string' ? { status: pool.intern(c.status) } : {}),
          ...(typeof c.reason === 'string' ? { reason: pool.intern(c.reason) } : {}),
          ...(typeof c.message === 'string' ? { message: messages.intern(c.message) } : {}),
        })),
      };
    }
    return out as T;
  };
}

/** The process's pool, bounded: shared by every informer and the objects the API server returns. */
export const sharedStrings = new StringPool();

/** The process's compactor (the default transform of every informer). */
export const compact = createCompactor(sharedStrings);
