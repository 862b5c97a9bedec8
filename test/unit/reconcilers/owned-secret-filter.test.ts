// The owned-Secrets cache keeps data only for the Secrets coffre publishes to: a tenant can label any
// Secret as coffre's (docs/security.md, "Bounded growth").
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { VaultConnection } from '../../../src/api/v1alpha1/resources.ts';
import type { KubeObject } from '../../../src/controller/types.ts';
import { dataNotCached, ownedSecretFilter } from '../../../src/reconcilers/caches.ts';
import { vaultConnection } from './support/connections.ts';

const known = vaultConnection(); // payments/auth0-management, uid uid-auth0-management
const byUid = (uid: string): VaultConnection | undefined => (uid === known.metadata.uid ? known : undefined);
const filter = ownedSecretFilter(byUid);

const owner = (over: Partial<V1OwnerReference> = {}): V1OwnerReference => ({
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'VaultConnection',
  name: 'auth0-management',
  uid: 'uid-auth0-management',
  controller: true,
  ...over,
});

function secretNamed(name: string, refs: V1OwnerReference[], namespace = 'payments'): V1Secret & KubeObject {
  return {
    metadata: { name, namespace, ownerReferences: refs, managedFields: [{ manager: 'x' }] },
    data: { blob: Buffer.from('a'.repeat(1024)).toString('base64') },
  };
}

describe('owned-Secret cache filter', () => {
  it.each<[string, V1Secret & KubeObject, boolean]>([
    [
      "should keep the data of a known connection's target",
      secretNamed('auth0-management-token', [owner()]),
      true,
    ],
    [
      "should keep the data of a known connection's state Secret",
      secretNamed('auth0-management-coffre-state', [owner()]),
      true,
    ],
    [
      'should drop the data of a Secret owned by an unknown uid',
      secretNamed('auth0-management-token', [owner({ uid: 'forged' })]),
      false,
    ],
    ['should drop the data of a Secret without an owner', secretNamed('auth0-management-token', []), false],
    [
      'should drop the data of a Secret whose owner is not its controller',
      secretNamed('auth0-management-token', [owner({ controller: false })]),
      false,
    ],
    [
      'should drop the data of a Secret owned by another kind',
      secretNamed('auth0-management-token', [owner({ kind: 'Deployment', apiVersion: 'apps/v1' })]),
      false,
    ],
    [
      "should drop the data of a known connection's Secret under another name",
      secretNamed('impostor-1', [owner()]),
      false,
    ],
    [
      'should drop the data of a look-alike in another namespace',
      secretNamed('auth0-management-token', [owner()], 'tenant'),
      false,
    ],
  ])('%s', (_title, secret, kept) => {
    const cached = filter(secret);
    expect(cached.data !== undefined).toBe(kept);
    expect(dataNotCached(cached)).toBe(!kept);
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.metadata?.name).toBe(secret.metadata?.name);
  });

  it('should not mark a Secret it kept, nor one it never saw', () => {
    expect(dataNotCached(undefined)).toBe(false);
    expect(dataNotCached(filter(secretNamed('auth0-management-token', [owner()])))).toBe(false);
  });
});
