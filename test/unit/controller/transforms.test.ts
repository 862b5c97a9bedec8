// The informers' transforms: what is dropped from a cached object, and which strings are shared.
import { describe, expect, it } from 'vitest';
import {
  LAST_APPLIED_ANNOTATION,
  StringPool,
  createCompactor,
  toMetadataOnly,
  withoutManagedFields,
} from '../../../src/controller/transforms.ts';
import type { KubeObject } from '../../../src/controller/types.ts';

/** A fresh copy, as JSON.parse hands every watch event: no string shared with another copy. */
const parsed = <T>(object: T): T => JSON.parse(JSON.stringify(object)) as T;

const connection = {
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'VaultConnection',
  metadata: {
    name: 'billing',
    namespace: 'payments-production',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 3,
    labels: { 'app.kubernetes.io/part-of': 'billing-service' },
    annotations: {
      [LAST_APPLIED_ANNOTATION]: '{"a whole copy":"of the object"}',
      'coffre.dev/force-refresh': 'now',
    },
    ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', name: 'a', uid: 'x' }],
    finalizers: ['coffre.dev/revoke'],
    deletionTimestamp: '2026-11-22T12:00:00Z',
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
  },
  spec: { type: 'apiKey', credentialsRef: { name: 'billing' } },
  status: {
    observedGeneration: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'CredentialsPublished',
        message: 'published to Secret billing-token',
        lastTransitionTime: '2026-11-22T12:00:00Z',
        observedGeneration: 3,
      },
    ],
  },
};

describe('compact', () => {
  it('should drop managedFields and the last-applied copy and keep everything a controller reads', () => {
    const compact = createCompactor(new StringPool());
    const out = compact(parsed(connection) as KubeObject) as typeof connection;
    const { managedFields: _m, ...metadata } = connection.metadata;
    const { [LAST_APPLIED_ANNOTATION]: _l, ...annotations } = connection.metadata.annotations;
    expect(out).toEqual({ ...connection, metadata: { ...metadata, annotations } });
  });

  it('should share repeated strings between objects, and not modify what it was given', () => {
    const compact = createCompactor(new StringPool());
    const input = parsed(connection);
    const a = compact(input as KubeObject) as typeof connection;
    const b = compact(parsed(connection) as KubeObject) as typeof connection;
    expect(input.metadata.managedFields).toBeDefined();
    // JavaScript cannot tell two equal strings apart: what is shared shows in the pool (next test)
    // and in the bench's heap snapshots.
    expect(a.apiVersion).toBe(b.apiVersion);
    expect(a.metadata.namespace).toBe(b.metadata.namespace);
    expect(b.status.conditions[0]?.reason).toBe('CredentialsPublished');
  });

  it('should keep only low-cardinality strings in its pool, and stop growing when full', () => {
    const pool = new StringPool(8);
    const compact = createCompactor(pool);
    compact(parsed(connection) as KubeObject);
    const kept = pool.size;
    // apiVersion, kind, namespace, a label key, an annotation key, the owner's apiVersion and kind,
    // and the condition's type, status, reason: never a name, uid, message or annotation value.
    expect(kept).toBe(8);
    for (let i = 0; i < 100; i++) {
      compact({ apiVersion: `v${i}`, kind: `K${i}`, metadata: { name: `n${i}`, namespace: `ns-${i}` } });
    }
    expect(pool.size).toBe(8);
    const roomy = new StringPool(100);
    createCompactor(roomy)(parsed(connection) as KubeObject);
    expect(roomy.size).toBe(10);
  });
});

describe('other transforms', () => {
  it('should remove managedFields only, and keep only metadata for PartialObjectMetadata', () => {
    const input = parsed(connection) as KubeObject;
    expect(withoutManagedFields(input).metadata?.managedFields).toBeUndefined();
    expect(withoutManagedFields(input).metadata?.annotations).toEqual(connection.metadata.annotations);
    expect(Object.keys(toMetadataOnly(input))).toEqual(['apiVersion', 'kind', 'metadata']);
  });
});
