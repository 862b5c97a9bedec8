// The metrics side of every component's observer hooks: the runtime (informers, controllers, queues,
// leadership), the API writes, the OAuth engine and the connections. Components only call hooks; which
// series a hook moves is decided here, once.
import { createBoundedLabel } from './bounded-label.ts';
import type { ManagerInput } from '../controller/options.ts';
import type { WriteCounter } from '../kube/kube-port.ts';
import type { TokenEngineObserver } from '../oauth/index.ts';
import type { ConnectionObserver } from '../reconcilers/vault-connection/reconciler.ts';
import type { Metrics } from './metrics.ts';

export function managerMetrics(metrics: Metrics): NonNullable<ManagerInput['observer']> {
  return {
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
  };
}

export function apiWriteMetrics(metrics: Metrics): WriteCounter {
  return {
    count: (verb, resource) => {
      metrics.apiWrites.inc({ verb, resource });
    },
  };
}

/** Token endpoints with a series of their own; an editor chooses the host, so the rest are `other`. */
export const MAX_HOST_LABELS = 50;

/**
 * Outcomes of requests the SSRF guard stopped before any byte left: refused addresses, plain http. They
 * show as the EndpointRefused reason (and in coffre_token_refreshes_total), not as requests sent.
 */
const NEVER_SENT: ReadonlySet<string> = new Set(['endpoint_refused', 'insecure_url']);

/** OAuth clients with a series of their own in the minted-tokens counter; the rest are `other`. */
export const MAX_CLIENT_LABELS = 200;

export function tokenEngineMetrics(
  metrics: Metrics,
  maxHosts = MAX_HOST_LABELS,
  maxClients = MAX_CLIENT_LABELS,
): TokenEngineObserver {
  const host = createBoundedLabel(maxHosts);
  // A client ID is not secret (it is in OAuthClient specs, and in every token's claims), but whoever
  // writes a connection chooses it: bounded like the host.
  const client = createBoundedLabel(maxClients);
  return {
    tokenRequest: (event) => {
      // coffre_token_requests_total counts requests sent, as documented: not a request stopped by the
      // local rate budget, a configuration or discovery failure, or the SSRF guard.
      if (!event.sent || NEVER_SENT.has(event.outcome)) return;
      metrics.tokenRequests.inc({ host: host(event.host), outcome: event.outcome });
      if (event.outcome === 'success')
        metrics.tokensMinted.inc({ host: host(event.host), client_id: client(event.clientId) });
    },
    cacheHit: (event) => {
      metrics.sharedTokenHits.inc({ host: host(event.host) });
    },
  };
}

export function connectionMetrics(metrics: Metrics): ConnectionObserver {
  return {
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
  };
}
