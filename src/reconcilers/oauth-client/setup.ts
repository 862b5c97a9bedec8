// The OAuthClient controller's wiring (controller-runtime's SetupWithManager): its reconciler over the
// shared client cache, re-queued when the client's Secret changes.
import type { Manager } from '../../controller/manager.ts';
import { BY_SECRET, referencedBy, type Caches } from '../caches.ts';
import { OAuthClientReconciler, type OAuthClientReconcilerDeps } from './reconciler.ts';

export interface OAuthClientControllerDeps extends Omit<OAuthClientReconcilerDeps, 'clients'> {
  workers: number;
}

export function setupOAuthClientController(
  manager: Manager,
  caches: Caches,
  deps: OAuthClientControllerDeps,
): void {
  const { workers, ...reconcilerDeps } = deps;
  const controller = manager.controller({
    name: 'oauthclient',
    informer: caches.clients,
    reconciler: new OAuthClientReconciler({ ...reconcilerDeps, clients: caches.clients.store }),
    workers,
  });
  controller.watches(caches.secretMetadata, referencedBy(caches.clients, BY_SECRET));
}
