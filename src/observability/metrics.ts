// Prometheus metrics, created once per process by createMetrics() (no global registry). Labels carry
// nothing secret and nothing unbounded beyond namespace, name, type, controller, the token endpoint's
// host and the OAuth client ID (bounded: see observers.ts). docs/operations.md documents every series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ExpiringTokenTypes } from '../connection-types/definitions.ts';

export interface Metrics {
  registry: Registry;
  tokenExpiry: Gauge<'namespace' | 'name' | 'type'>;
  refreshes: Counter<'type' | 'result' | 'reason'>;
  tokenRequests: Counter<'host' | 'outcome'>;
  sharedTokenHits: Counter<'host'>;
  tokensMinted: Counter<'host' | 'client_id'>;
  connections: Gauge<'ready' | 'reason'>;
  reconciles: Counter<'controller' | 'outcome'>;
  reconcileDuration: Histogram<'controller' | 'outcome'>;
  queueDepth: Gauge<'controller'>;
  queueWait: Histogram<'controller'>;
  queueRetries: Counter<'controller'>;
  leader: Gauge;
  relists: Counter<'informer' | 'reason'>;
  apiWrites: Counter<'verb' | 'resource'>;
  /** Ready status of each connection, for the connections gauge. */
  setConnectionState(key: string, ready: string, reason: string): void;
  /** Drops a deleted connection's series (its expiry gauge under every token type it may have had). */
  forgetConnection(key: string, namespace: string, name: string): void;
}

export function createMetrics(version: string): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'coffre_' });
  new Gauge({
    name: 'coffre_build_info',
    help: 'Build information; always 1.',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version, node: process.version }, 1);

  const states = new Map<string, { ready: string; reason: string }>();
  const connections = new Gauge<'ready' | 'reason'>({
    name: 'coffre_connections',
    help: 'VaultConnections by the status and reason of their Ready condition.',
    labelNames: ['ready', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const { ready, reason } of states.values()) {
        const key = `${ready}\u0000${reason}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, count] of counts) {
        const [ready = '', reason = ''] = key.split('\u0000');
        this.set({ ready, reason }, count);
      }
    },
  });

  const tokenExpiry = new Gauge<'namespace' | 'name' | 'type'>({
    name: 'coffre_token_expiration_timestamp_seconds',
    help: "When the token published by a connection expires (Unix seconds), like cert-manager's certificate expiry.",
    labelNames: ['namespace', 'name', 'type'],
    registers: [registry],
  });

  return {
    registry,
    tokenExpiry,
    refreshes: new Counter({
      name: 'coffre_token_refreshes_total',
      help: 'Token refreshes by connection type and result (success, failure) and, for failures, the reason.',
      labelNames: ['type', 'result', 'reason'],
      registers: [registry],
    }),
    tokenRequests: new Counter({
      name: 'coffre_token_requests_total',
      help: 'Requests sent to token endpoints, by host and outcome (success, rate_limited, an error code).',
      labelNames: ['host', 'outcome'],
      registers: [registry],
    }),
    tokensMinted: new Counter({
      name: 'coffre_tokens_minted_total',
      help: 'Tokens token endpoints issued to coffre, by host and OAuth client ID (what Auth0 bills as machine-to-machine tokens); a shared token counts once.',
      labelNames: ['host', 'client_id'],
      registers: [registry],
    }),
    sharedTokenHits: new Counter({
      name: 'coffre_shared_token_hits_total',
      help: 'Token requests answered from the shared cache or by joining a request in flight (no request sent).',
      labelNames: ['host'],
      registers: [registry],
    }),
    connections,
    reconciles: new Counter({
      name: 'coffre_reconcile_total',
      help: 'Reconciles by controller and outcome (success, requeue, error, terminal, aborted).',
      labelNames: ['controller', 'outcome'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'coffre_reconcile_duration_seconds',
      help: 'Reconcile duration by controller and outcome.',
      labelNames: ['controller', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'coffre_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: 'coffre_workqueue_wait_seconds',
      help: 'How long a key waited in the queue before a worker took it.',
      labelNames: ['controller'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueRetries: new Counter({
      name: 'coffre_workqueue_retries_total',
      help: 'Keys re-queued with backoff after a failed reconcile.',
      labelNames: ['controller'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'coffre_leader',
      help: '1 while this replica holds the leader Lease.',
      registers: [registry],
    }),
    relists: new Counter({
      name: 'coffre_informer_relists_total',
      help: 'Full lists by informer and reason (initial, expired: 410 Gone); other failures resume the watch.',
      labelNames: ['informer', 'reason'],
      registers: [registry],
    }),
    apiWrites: new Counter({
      name: 'coffre_api_writes_total',
      help: 'Write requests coffre sent to the API server, by verb and resource.',
      labelNames: ['verb', 'resource'],
      registers: [registry],
    }),
    setConnectionState(key, ready, reason) {
      states.set(key, { ready, reason });
    },
    forgetConnection(key, namespace, name) {
      states.delete(key);
      for (const type of ExpiringTokenTypes) tokenExpiry.remove({ namespace, name, type });
    },
  };
}
