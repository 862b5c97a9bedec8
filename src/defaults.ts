// Every default of the operator and its controller runtime, once. A leaf: it imports no module of coffre,
// so the runtime (controller/options.ts, kube-http.ts) and the flag table (config.ts) both read it
// without importing each other. The OAuth engine's defaults stay beside it (guarded-fetch.ts,
// rate-budget.ts, engine.ts) and config.ts derives its flag defaults from them, so none is written twice.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * How a failing thing waits before its next attempt (see controller/rate-limiter.ts):
 * min(max, base·2^(failures-1)) with jitter, at least a server's Retry-After up to maxRetryAfterMs.
 * - `full`: uniform in [0, d] (spreads retries most; AWS "full jitter").
 * - `equal`: d/2 fixed plus uniform in [0, d/2] (never collapses to an immediate retry).
 * - `none`: exactly d (deterministic; for tests and tooling).
 */
export interface BackoffPolicy {
  /** The delay after the first failure, before jitter. */
  baseMs: number;
  /** No delay exceeds this, before or after jitter. */
  maxMs: number;
  jitter: 'full' | 'equal' | 'none';
  /** A server-requested delay (Retry-After) is honoured up to this bound, against absurd values. */
  maxRetryAfterMs: number;
}

export const defaults = {
  /** Namespaces to watch; empty: all. */
  watchNamespaces: [] as readonly string[],
  /** The record key's Secret, in the operator's namespace (see src/secrets/record-key.ts). */
  recordKeySecret: 'coffre-record-key',
  metrics: { host: '0.0.0.0', port: 8080 },
  health: { host: '0.0.0.0', port: 8081 },
  log: { level: 'info', format: 'json' },
  providers: {
    slackApiBaseUrl: 'https://slack.com/api',
    /** `{shop}` is replaced by the shop domain. */
    shopifyBaseUrl: 'https://{shop}',
    /** `{subdomain}` is replaced by spec.zendesk.subdomain. */
    zendeskBaseUrl: 'https://{subdomain}.zendesk.com',
    /** Twilio's OAuth service (`/v2/token` is under it). */
    twilioOAuthBaseUrl: 'https://oauth.twilio.com',
  },
  kube: {
    /** Deadline of an ordinary API request (lists pages, Lease reads and writes). */
    requestTimeoutMs: 30_000,
    /** User-Agent of the runtime's requests (and the API server's default field manager). */
    userAgent: 'coffre',
  },
  informer: {
    /** Objects per list page. */
    pageSize: 500,
    listTimeoutMs: 60_000,
    /** Server-side watch timeout; each watch picks between this and twice this (client-go: 5–10 min). */
    watchTimeoutSeconds: 300,
    /**
     * A watch silent for this long is on a dead connection and is reopened from its last
     * resourceVersion (no relist). The API server's watch cache sends a bookmark about once a minute
     * (cacher's defaultBookmarkFrequency) to watches that ask for them, so 2.5 minutes of silence is not
     * a quiet resource. 0: only the server timeout + 30 s.
     */
    watchInactivityMs: 150_000,
    /**
     * Reconnect backoff of a failing list or watch. Not the controller's policy: after an API server
     * outage every reflector reconnects at once, so full jitter spreads them most, and a cache must be
     * back within 30 s, whereas a failing reconcile may wait minutes.
     */
    backoff: { baseMs: 800, maxMs: 30_000, jitter: 'full', maxRetryAfterMs: 60_000 } as BackoffPolicy,
  },
  controller: {
    /** Concurrent reconciles per controller (the operator's --workers). */
    workers: 8,
    /**
     * Per-key retry backoff of a failing reconcile: 500 ms, 1 s, 2 s ... capped at 5 min. Equal jitter:
     * a key that keeps failing never comes back immediately, and an hour-long Retry-After is honoured.
     */
    backoff: { baseMs: 500, maxMs: 300_000, jitter: 'equal', maxRetryAfterMs: 3_600_000 } as BackoffPolicy,
    /** A reconcile's signal aborts after this long; below stuckWorkerMs so liveness is the last resort. */
    reconcileTimeoutMs: 60_000,
    /** After the shutdown deadline aborted in-flight reconciles, how long they get to settle. */
    abortGraceMs: 2_000,
  },
  leaderElection: {
    enabled: true,
    /** The chart's namespace; in a pod, POD_NAMESPACE (the pod's own) replaces it. */
    namespace: 'coffre-system',
    leaseName: 'coffre-leader',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    releaseTimeoutMs: 5_000,
    /** Watch the Lease so a standby takes over the moment it is released (needs list/watch on leases). */
    watchLease: true,
    /** While the Lease's namespace is missing, the error line is repeated this often (not every retry). */
    problemLogIntervalMs: 60_000,
  },
  /** On stop, how long in-flight reconciles may take before they are aborted. */
  shutdownGraceMs: 20_000,
  /** Liveness fails when one reconcile has run longer than this. */
  stuckWorkerMs: 120_000,
} as const;

/** Unique per process: the host (pod) name and a random suffix, as controller-runtime does. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}
