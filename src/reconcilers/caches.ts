// The informers both controllers read, created once (like controller-runtime's shared cache), with the
// indexes that map a changed Secret or OAuthClient back to the objects that reference it.
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/v1alpha1/metadata-keys.ts';
import { GROUP, VERSION, type OAuthClient, type VaultConnection } from '../api/v1alpha1/resources.ts';
import type { Informer, ResourceRef } from '../controller/informer.ts';
import type { Manager } from '../controller/manager.ts';
import { sharedStrings } from '../controller/transforms.ts';
import type { KubeObject, ObjectKey } from '../controller/types.ts';
import { targetName } from './vault-connection/policy.ts';
import { stateSecretName } from './vault-connection/state-secret.ts';

const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets' };
const CONNECTIONS: ResourceRef = { group: GROUP, version: VERSION, plural: 'vaultconnections' };
const CLIENTS: ResourceRef = { group: GROUP, version: VERSION, plural: 'oauthclients' };

/** Index of connections and clients by the `namespace/name` of each Secret they read or write. */
export const BY_SECRET = 'secret';
/** Index of connections by the `namespace/name` of their OAuthClient. */
export const BY_OAUTH_CLIENT = 'oauthclient';

export interface Caches {
  connections: Informer<VaultConnection & KubeObject>;
  clients: Informer<OAuthClient & KubeObject>;
  /**
   * coffre's own Secrets, label-selected and metadata only: a tenant can label any Secret as coffre's,
   * so their data is never watched; the data of a connection's own target and state Secrets is read by
   * name (kube/owned-secret-data.ts).
   */
  ownedSecrets: Informer<KubeObject>;
  /**
   * Every Secret, metadata only and trimmed to name/namespace/resourceVersion: change notifications
   * for the Secrets connections reference, without holding any Secret's data.
   */
  secretMetadata: Informer<KubeObject>;
}

/** Only what the mapping needs of a Secret nobody told us about: a few hundred bytes each. */
function minimalMetadata(object: KubeObject): KubeObject {
  const m = object.metadata ?? {};
  return {
    metadata: {
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.namespace === undefined ? {} : { namespace: sharedStrings.intern(m.namespace) }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
    },
  };
}

function namespacedKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/** `namespaces`: the watched namespaces, empty for all; one list/watch per namespace. */
export function createCaches(manager: Manager, namespaces: readonly string[]): Caches {
  const informer = <T extends KubeObject>(
    name: string,
    resource: ResourceRef,
    extra: { labelSelector?: string; metadataOnly?: boolean; transform?: (object: T) => T } = {},
  ) => manager.informer<T>({ name, resource, namespaces, ...extra });

  const connections = informer<VaultConnection & KubeObject>('vaultconnections', CONNECTIONS);
  const clients = informer<OAuthClient & KubeObject>('oauthclients', CLIENTS);
  const ownedSecrets = informer<KubeObject>('owned-secrets', SECRETS, {
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    metadataOnly: true,
  });
  const secretMetadata = informer<KubeObject>('secret-metadata', SECRETS, {
    metadataOnly: true,
    transform: minimalMetadata,
  });

  connections.addIndex(BY_SECRET, (vc) => {
    const ns = vc.metadata.namespace;
    const keys = [namespacedKey(ns, targetName(vc)), namespacedKey(ns, stateSecretName(vc))];
    if (vc.spec.credentialsRef !== undefined) keys.push(namespacedKey(ns, vc.spec.credentialsRef.name));
    return keys;
  });
  connections.addIndex(BY_OAUTH_CLIENT, (vc) =>
    vc.spec.oauthClientRef === undefined
      ? []
      : [namespacedKey(vc.metadata.namespace, vc.spec.oauthClientRef.name)],
  );
  clients.addIndex(BY_SECRET, (client) => {
    const ref = client.spec.privateKeyRef ?? client.spec.clientSecretRef;
    return ref === undefined ? [] : [namespacedKey(client.metadata.namespace, ref.name)];
  });
  return { connections, clients, ownedSecrets, secretMetadata };
}

/** The objects in `source` indexed under `object`'s `namespace/name`. */
export function indexedUnder<T extends KubeObject>(
  source: { store: { byIndex(name: string, value: string): T[] } },
  index: string,
  object: KubeObject,
): T[] {
  return source.store.byIndex(index, namespacedKey(object.metadata?.namespace, object.metadata?.name));
}

/** Maps an object to the keys of the objects in `source` indexed under its `namespace/name`. */
export function referencedBy(
  source: { store: { byIndex(name: string, value: string): KubeObject[] } },
  index: string,
): (object: KubeObject) => ObjectKey[] {
  return (object) =>
    indexedUnder(source, index, object).map((o) => ({
      namespace: o.metadata?.namespace ?? '',
      name: o.metadata?.name ?? '',
    }));
}
