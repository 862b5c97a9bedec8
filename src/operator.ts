// Builds the operator from a KubeConfig and a Config: informers, indexes, controllers, the OAuth engine,
// metrics and the manager. No process side effects (no signals, no ports): main.ts and the tests call it.
import { readFileSync } from 'node:fs';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './api/v1alpha1/metadata-keys.ts';
import { GROUP, VERSION, type OAuthClient, type VaultConnection } from './api/v1alpha1/resources.ts';
import { createValidators } from './api/validation.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { ResourceRef } from './controller/informer.ts';
import { createManager, type Manager } from './controller/manager.ts';
import type { KubeObject, ObjectKey } from './controller/types.ts';
import { createTokenEngine, type TokenEngine } from './oauth/index.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { createProviderRegistry } from './providers/registry.ts';
import { createEventRecorder } from './observability/events.ts';
import { createKubePort } from './kube/kube-port.ts';
import { OAuthClientReconciler } from './reconcilers/oauth-client/reconciler.ts';
import { ReadYourWrites } from './kube/read-your-writes.ts';
import { SecretReader } from './kube/secret-reader.ts';
import { targetName } from './reconcilers/vault-connection/policy.ts';
import { VaultConnectionReconciler } from './reconcilers/vault-connection/reconciler.ts';
import { STATE_SECRET_SUFFIX } from './reconcilers/vault-connection/state-secret.ts';

export interface Operator {
  manager: Manager;
  engine: TokenEngine;
  /** Starts informers, waits for caches, then competes for leadership (or leads). Aborting stops it. */
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  random?: () => number;
  /** Called when leadership is lost; main exits so the pod restarts clean. */
  onLeadershipLost?: () => void;
}

const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets' };
const CONNECTIONS: ResourceRef = { group: GROUP, version: VERSION, plural: 'vaultconnections' };
const CLIENTS: ResourceRef = { group: GROUP, version: VERSION, plural: 'oauthclients' };

/** Only what the mapping needs of a Secret nobody told us about: a few hundred bytes each. */
function minimalMetadata(object: KubeObject): KubeObject {
  const m = object.metadata ?? {};
  return {
    metadata: {
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
    },
  };
}

export function createOperator(deps: OperatorDeps): Operator {
  const { kubeConfig, config, clock, logger, metrics } = deps;
  const random = deps.random ?? Math.random;
  const le = config.leaderElection;
  const manager = createManager(kubeConfig, {
    clock,
    logger,
    random,
    leaderElection: le.enabled
      ? {
          namespace: le.namespace,
          leaseName: le.leaseName,
          identity: le.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
        }
      : false,
    shutdownGraceMs: config.shutdownGraceMs,
    stuckWorkerMs: config.stuckWorkerMs,
    ...(deps.onLeadershipLost === undefined ? {} : { onLeadershipLost: deps.onLeadershipLost }),
    observer: {
      informer: {
        listed: (informer, reason) => {
          metrics.relists.inc({ informer, reason });
        },
      },
      controller: {
        reconciled: (controller, _key, outcome, durationMs) => {
          metrics.reconciles.inc({ controller, outcome });
          metrics.reconcileDuration.observe({ controller, outcome }, durationMs / 1000);
        },
        queue: (controller) => ({
          depth: (depth) => {
            metrics.queueDepth.set({ controller }, depth);
          },
          waited: (ms) => {
            metrics.queueWait.observe({ controller }, ms / 1000);
          },
          retried: () => {
            metrics.queueRetries.inc({ controller });
          },
        }),
      },
      leading: (leading) => {
        metrics.leader.set(leading ? 1 : 0);
      },
    },
  });
  // One informer per resource; it runs one list/watch per watched namespace (or one for all).
  const group = <T extends KubeObject>(
    name: string,
    resource: ResourceRef,
    extra: { labelSelector?: string; metadataOnly?: boolean; transform?: (object: T) => T } = {},
  ) => manager.informer<T>({ name, resource, namespaces: config.watchNamespaces, ...extra });

  const connections = group<VaultConnection & KubeObject>('vaultconnections', CONNECTIONS);
  const clients = group<OAuthClient & KubeObject>('oauthclients', CLIENTS);
  // coffre's own Secrets, with data: label-selected, so their number is the number of connections.
  const owned = group<V1Secret & KubeObject>('owned-secrets', SECRETS, {
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
  });
  // Every Secret, metadata only and trimmed to name/namespace/resourceVersion: change notifications for
  // the Secrets connections reference, without holding any Secret's data.
  const allSecrets = group<KubeObject>('secret-metadata', SECRETS, {
    metadataOnly: true,
    transform: minimalMetadata,
  });

  const secretKey = (namespace: string | undefined, name: string | undefined) =>
    `${namespace ?? ''}/${name ?? ''}`;
  connections.addIndex('secret', (vc) => {
    const ns = vc.metadata.namespace;
    const keys = [
      secretKey(ns, targetName(vc)),
      secretKey(ns, `${vc.metadata.name ?? ''}${STATE_SECRET_SUFFIX}`),
    ];
    if (vc.spec.credentialsRef !== undefined) keys.push(secretKey(ns, vc.spec.credentialsRef.name));
    return keys;
  });
  connections.addIndex('oauthclient', (vc) =>
    vc.spec.oauthClientRef === undefined
      ? []
      : [secretKey(vc.metadata.namespace, vc.spec.oauthClientRef.name)],
  );
  clients.addIndex('secret', (client) => {
    const ref = client.spec.privateKeyRef ?? client.spec.clientSecretRef;
    return ref === undefined ? [] : [secretKey(client.metadata.namespace, ref.name)];
  });

  const port = createKubePort(manager.http, {
    count: (verb, resource) => {
      metrics.apiWrites.inc({ verb, resource });
    },
  });
  const secretReader = new SecretReader(port, allSecrets.store);
  allSecrets.addHandlers({
    onDelete: (object) => {
      secretReader.forget(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    },
  });
  const events = createEventRecorder(port, clock, logger, config.leaderElection.identity);
  const engine = createTokenEngine({
    fetch: {
      allowedCIDRs: config.egress.allowedCIDRs,
      allowHttp: config.egress.allowHttp,
      connectTimeoutMs: config.egress.connectTimeoutMs,
      totalTimeoutMs: config.egress.totalTimeoutMs,
      maxResponseBytes: config.egress.maxResponseBytes,
      ...(config.egress.caFile === '' ? {} : { ca: readFileSync(config.egress.caFile, 'utf8') }),
    },
    clock,
    logger,
    limits: {
      maxConcurrentPerHost: config.tokenRequests.perHostConcurrency,
      requestsPerSecondPerHost: config.tokenRequests.perHostRatePerSecond,
      burstPerHost: config.tokenRequests.perHostBurst,
    },
    observer: {
      tokenRequest: (event) => {
        metrics.tokenRequests.inc({ host: event.host, outcome: event.outcome });
      },
      cacheHit: (event) => {
        metrics.sharedTokenHits.inc({ host: event.host });
      },
    },
  });
  const validators = createValidators();

  const vcReconciler = new VaultConnectionReconciler({
    connections: new ReadYourWrites(connections.store, clock, { absentMeansGone: true }),
    clients: clients.store,
    ownedSecrets: new ReadYourWrites(owned.store, clock, { absentMeansGone: false }),
    secrets: secretReader,
    port,
    events,
    engine,
    providers: createProviderRegistry(),
    providersConfig: config.providers,
    validators,
    clock,
    random,
    observer: {
      refreshed: (vc, result, reason) => {
        metrics.refreshes.inc({ type: vc.spec.type, result, reason: reason ?? '' });
      },
      published: (vc, expiresAt) => {
        const labels = {
          namespace: vc.metadata.namespace ?? '',
          name: vc.metadata.name ?? '',
          type: vc.spec.type,
        };
        if (expiresAt === undefined) metrics.tokenExpiry.remove(labels);
        // Whole seconds, as status and the Secret annotations record it (never later than the truth).
        else metrics.tokenExpiry.set(labels, Math.floor(expiresAt / 1000));
      },
      conditions: (vc, state) => {
        metrics.setConnectionState(
          `${vc.metadata.namespace ?? ''}/${vc.metadata.name ?? ''}`,
          state.ready,
          state.reason,
        );
      },
      forgotten: (key) => {
        metrics.forgetConnection(`${key.namespace}/${key.name}`, key.namespace, key.name);
      },
    },
  });
  const vcController = manager.controller<VaultConnection & KubeObject>({
    name: 'vaultconnection',
    informer: connections,
    reconciler: vcReconciler,
    workers: config.workers,
  });
  const byIndex =
    (source: { store: { byIndex(name: string, value: string): KubeObject[] } }, index: string) =>
    (object: KubeObject): ObjectKey[] =>
      source.store
        .byIndex(index, secretKey(object.metadata?.namespace, object.metadata?.name))
        .map((o) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }));
  const connectionsOfClient = byIndex(connections, 'oauthclient');
  vcController.watches(clients, connectionsOfClient);
  // A Secret matters to a connection directly (credentials, target, state) or through its OAuthClient.
  const connectionsOfSecret = byIndex(connections, 'secret');
  vcController.watches(allSecrets, (secret) => [
    ...connectionsOfSecret(secret),
    ...clients.store
      .byIndex('secret', secretKey(secret.metadata?.namespace, secret.metadata?.name))
      .flatMap((client) => connectionsOfClient(client)),
  ]);
  vcController.owns(owned, { group: GROUP, kind: 'VaultConnection' });

  const clientController = manager.controller<OAuthClient & KubeObject>({
    name: 'oauthclient',
    informer: clients,
    reconciler: new OAuthClientReconciler({
      clients: clients.store,
      secrets: secretReader,
      port,
      events,
      engine,
      validators,
      clock,
      random,
    }),
    workers: Math.max(1, Math.ceil(config.workers / 4)),
  });
  clientController.watches(allSecrets, byIndex(clients, 'secret'));

  return {
    manager,
    engine,
    start: (signal) => {
      signal?.addEventListener('abort', () => void manager.stop(), { once: true });
      return manager.start();
    },
    async stop() {
      await manager.stop();
      await engine.close();
    },
  };
}
