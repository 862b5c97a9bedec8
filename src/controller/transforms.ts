// What an informer does to each object before caching it. Shallow: the rest of the object is shared.
import type { KubeObject } from './types.ts';

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
