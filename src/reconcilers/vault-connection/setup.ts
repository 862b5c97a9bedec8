// The VaultConnection controller's wiring (controller-runtime's SetupWithManager): its reconciler over
// read-your-writes views of the shared caches, and what re-queues a connection — its OAuthClient, a
// Secret it reads or writes (directly or through its OAuthClient), or a Secret it owns.
import { GROUP } from '../../api/v1alpha1/resources.ts';
import type { Manager } from '../../controller/manager.ts';
import type { V1Secret } from '@kubernetes/client-node';
import type { Store } from '../../controller/store.ts';
import { fromKey, type KubeObject } from '../../controller/types.ts';
import { ReadYourWrites } from '../../kube/read-your-writes.ts';
import { BY_OAUTH_CLIENT, BY_SECRET, indexedUnder, referencedBy, type Caches } from '../caches.ts';
import { VaultConnectionReconciler, type VaultConnectionReconcilerDeps } from './reconciler.ts';
import { TokenFlights } from './token-flights.ts';

export interface VaultConnectionControllerDeps extends Omit<
  VaultConnectionReconcilerDeps,
  'connections' | 'clients' | 'ownedSecrets' | 'flights'
> {
  workers: number;
  /** Token requests in flight per token-endpoint host (the engine's limit): the rest wait outside the workers. */
  tokenRequestsPerHost: number;
}

export function setupVaultConnectionController(
  manager: Manager,
  caches: Caches,
  deps: VaultConnectionControllerDeps,
): void {
  const { connections, clients, ownedSecrets, secretMetadata } = caches;
  const { workers, tokenRequestsPerHost, ...reconcilerDeps } = deps;
  // Bound once the controller exists: a settled token request re-queues its connection.
  let wake: (id: string) => void = () => undefined;
  const flights = new TokenFlights({
    perHost: tokenRequestsPerHost,
    now: () => deps.clock.now(),
    wake: (id) => {
      wake(id);
    },
  });
  ownedSecrets.addHandlers({
    onDelete: (secret) => {
      deps.ownedData.forget(secret.metadata?.namespace ?? '', secret.metadata?.name ?? '');
    },
  });
  // Metadata from the watch, whole objects from our writes: gather tells them apart.
  const ownedView = new ReadYourWrites(ownedSecrets.store as unknown as Store<V1Secret>, deps.clock, {
    absentMeansGone: false,
  }).follow(ownedSecrets);
  const reconciler = new VaultConnectionReconciler({
    ...reconcilerDeps,
    flights,
    connections: new ReadYourWrites(connections.store, deps.clock, { absentMeansGone: true }).follow(
      connections,
    ),
    clients: clients.store,
    namespaceConnections: (namespace) => connections.store.byNamespace(namespace),
    ownedSecrets: ownedView,
  });
  const controller = manager.controller({
    name: 'vaultconnection',
    informer: connections,
    reconciler,
    workers,
  });
  // Ahead of the queue: until it is published (or the failure recorded) the token lives only in this
  // process, and is lost — another request, for a rotating grant the refresh token — if it dies.
  wake = (id) => {
    controller.enqueue(fromKey(id), { urgent: true });
  };
  const connectionsOfClient = referencedBy(connections, BY_OAUTH_CLIENT);
  const connectionsOfSecret = referencedBy(connections, BY_SECRET);
  controller.watches(clients, connectionsOfClient);
  // A Secret matters to a connection directly (credentials, target, state) or through its OAuthClient.
  // The target or state Secret a reconcile has just written comes back through both watches: that
  // reconcile has already acted on it, so its echo queues nothing (a third reconcile per new connection
  // otherwise). An echo that arrives before the write's response is held until the response names it.
  const claim = (secret: KubeObject, release: () => void) => ownedView.claim(secret, release);
  controller.watches(
    secretMetadata,
    (secret) => [
      ...connectionsOfSecret(secret),
      ...indexedUnder(clients, BY_SECRET, secret).flatMap(connectionsOfClient),
    ],
    { claim },
  );
  controller.owns(ownedSecrets, { group: GROUP, kind: 'VaultConnection' }, { claim });
}
