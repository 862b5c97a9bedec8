// Builds the operator from a KubeConfig and a Config: the manager, the shared caches, the clients and
// the OAuth engine, then each controller through its setup function (beside its reconciler). No process
// side effects (no signals, no ports): main.ts and the tests call it.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { createValidators } from './api/validation.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createManager, type Manager } from './controller/manager.ts';
import { createKubePort } from './kube/kube-port.ts';
import { OwnedSecretData } from './kube/owned-secret-data.ts';
import { loadRecordKey, recordKeySource } from './kube/record-key-secret.ts';
import { SecretReader } from './kube/secret-reader.ts';
import { createTokenEngine, type TokenEngine } from './oauth/index.ts';
import { createEventRecorder } from './observability/events.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import {
  apiWriteMetrics,
  connectionMetrics,
  managerMetrics,
  tokenEngineMetrics,
} from './observability/observers.ts';
import { connectionTypeRegistry, tokenAdaptersOf } from './connection-types/registry.ts';
import { createProviderRegistry } from './providers/registry.ts';
import { createCaches, type Caches } from './reconcilers/caches.ts';
import { setupOAuthClientController } from './reconcilers/oauth-client/setup.ts';
import { setupVaultConnectionController } from './reconcilers/vault-connection/setup.ts';

export interface Operator {
  manager: Manager;
  engine: TokenEngine;
  /** The shared caches (diagnostics and tests: what the operator holds in memory). */
  caches: Caches;
  /** The data of coffre's own Secrets held in memory: one entry per target or state Secret read. */
  ownedSecretData: OwnedSecretData;
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

export function createOperator(deps: OperatorDeps): Operator {
  const { kubeConfig, config, clock, logger, metrics } = deps;
  const random = deps.random ?? Math.random;
  const le = config.leaderElection;
  const manager = createManager(kubeConfig, {
    clock,
    logger,
    random,
    leaderElection: le.enabled ? le : false,
    shutdownGraceMs: config.shutdownGraceMs,
    stuckWorkerMs: config.stuckWorkerMs,
    ...(deps.onLeadershipLost === undefined ? {} : { onLeadershipLost: deps.onLeadershipLost }),
    observer: managerMetrics(metrics),
  });
  const caches = createCaches(manager, config.watchNamespaces);
  const port = createKubePort(manager.http, apiWriteMetrics(metrics));
  const secrets = new SecretReader(port, caches.secretMetadata.store);
  caches.secretMetadata.addHandlers({
    onDelete: (object) => {
      secrets.forget(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    },
  });
  const ownedSecretData = new OwnedSecretData(port);
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
    limits: config.tokenRequests,
    observer: tokenEngineMetrics(metrics),
    adapters: tokenAdaptersOf(connectionTypeRegistry),
  });
  const validators = createValidators();
  // In the operator's namespace, beside the Lease: there before this replica can lead.
  const recordKey = recordKeySource(() => loadRecordKey(manager.http, le.namespace, config.recordKeySecret));
  const shared = { secrets, port, events, engine, validators, clock, random };

  setupVaultConnectionController(manager, caches, {
    ...shared,
    providers: createProviderRegistry(connectionTypeRegistry),
    providersConfig: config.providers,
    observer: connectionMetrics(metrics),
    recordKey,
    ownedData: ownedSecretData,
    workers: config.workers,
    tokenRequestsPerHost: config.tokenRequests.maxConcurrentPerHost,
  });
  setupOAuthClientController(manager, caches, {
    ...shared,
    workers: Math.max(1, Math.ceil(config.workers / 4)),
  });

  return {
    manager,
    engine,
    caches,
    ownedSecretData,
    async start(signal) {
      signal?.addEventListener('abort', () => void manager.stop(), { once: true });
      // Without leader election nothing waits for the operator's namespace: a missing key Secret that
      // cannot be created is a start-up error (one line). With it, the key loads once this replica leads.
      if (!le.enabled) await recordKey();
      return manager.start();
    },
    async stop() {
      await manager.stop();
      await engine.close();
    },
  };
}
