// The OAuth engine the reconcilers call: one object composing the guarded fetch, discovery, client
// authentication, the token clients (openid-client, and the vendor adapters it is given), token sharing and the per-host
// rate budget. Every default is resolved here, once. It logs and reports (observer) hosts, grants,
// outcomes and durations; never a token, a secret, or anything a server sent.
import { systemClock, type Clock } from '../clock.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import { createClientAuth } from './client-auth.ts';
import {
  authMethodWarning,
  buildConfiguration,
  createDiscovery,
  DEFAULT_DISCOVERY_TTL_MS,
  type DiscoveredServer,
} from './discovery.ts';
import { OAuthError, type OAuthErrorCode } from './errors.ts';
import { createGuardedFetch, type GuardedFetch, type GuardedFetchOptions } from './guarded-fetch.ts';
import { createRateBudget, RATE_BUDGET_DEFAULTS } from './rate-budget.ts';
import { requestToken, revokeToken } from './token-client.ts';
import {
  createTokenCache,
  TOKEN_CACHE_DEFAULTS,
  type GetTokenOptions,
  type TokenSource,
} from './token-cache.ts';
import type { TokenAdapter } from './token-adapter.ts';
import type { ClientConfig, Flavour, Grant, ResolvedClient, TokenRequest, TokenSet } from './types.ts';

export interface TokenEngineLimits {
  /** Token requests in flight per token-endpoint host. */
  maxConcurrentPerHost: number;
  requestsPerSecondPerHost: number;
  burstPerHost: number;
  /** The longest a caller waits for the host's budget before getting rate_limited. */
  maxBudgetWaitMs: number;
  cacheEntries: number;
  discoveryTtlMs: number;
  /** How long a token without a known expiry is shared. */
  unknownExpiryTtlMs: number;
}

export const DEFAULT_LIMITS: TokenEngineLimits = {
  maxConcurrentPerHost: RATE_BUDGET_DEFAULTS.maxConcurrent,
  requestsPerSecondPerHost: RATE_BUDGET_DEFAULTS.ratePerSecond,
  burstPerHost: RATE_BUDGET_DEFAULTS.burst,
  maxBudgetWaitMs: RATE_BUDGET_DEFAULTS.maxWaitMs,
  cacheEntries: TOKEN_CACHE_DEFAULTS.maxEntries,
  discoveryTtlMs: DEFAULT_DISCOVERY_TTL_MS,
  unknownExpiryTtlMs: TOKEN_CACHE_DEFAULTS.unknownExpiryTtlMs,
};

export interface TokenRequestEvent {
  host: string;
  /** The client's ID (not a secret): tokens minted per client are what Auth0 bills. */
  clientId: string;
  flavour: Flavour;
  grant: Grant['type'];
  outcome: 'success' | OAuthErrorCode;
  /** False when the request never reached the server (budget, configuration, discovery). */
  sent: boolean;
  durationMs: number;
}

export interface CacheHitEvent {
  host: string;
  flavour: Flavour;
  /** `cache`: a stored token; `joined`: another caller's request in flight. */
  source: Exclude<TokenSource, 'fetched'>;
}

/** Hooks for metrics (prom-client lives in the operator, not here). Must not throw. */
export interface TokenEngineObserver {
  tokenRequest?(event: TokenRequestEvent): void;
  cacheHit?(event: CacheHitEvent): void;
}

export interface TokenEngineOptions {
  /** A guarded fetch to share, or the options to create the engine's own. */
  fetch?: GuardedFetch | GuardedFetchOptions;
  clock?: Clock;
  logger?: Logger;
  limits?: Partial<TokenEngineLimits>;
  observer?: TokenEngineObserver;
  /** Token clients for vendor flavours (the connection types' token adapters); `standard` is built in. */
  adapters?: readonly TokenAdapter[];
}

export interface TokenEngine {
  /** Endpoints and warnings for a client; validates its credentials' shape (e.g. that the key parses). */
  resolveClient(client: ClientConfig, flavour?: Flavour): Promise<ResolvedClient>;
  /** A token for the request: shared, cached, or fetched once for all concurrent callers. */
  getToken(request: TokenRequest, options?: GetTokenOptions): Promise<TokenSet>;
  /** Preloads a token read back from its Secret (after a restart nothing is minted). */
  seed(request: TokenRequest, tokenSet: TokenSet): void;
  /** Forgets the cached token for the request. */
  invalidate(request: TokenRequest): void;
  /** RFC 7009 revocation; false when the server advertises no revocation endpoint. */
  revoke(client: ClientConfig, token: SecretValue, hint?: 'access_token' | 'refresh_token'): Promise<boolean>;
  close(): Promise<void>;
}

export function createTokenEngine(options: TokenEngineOptions = {}): TokenEngine {
  const clock = options.clock ?? systemClock;
  const limits: TokenEngineLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const logger = (options.logger ?? silentLogger()).child({ component: 'oauth' });
  const observer = options.observer ?? {};
  const ownsFetch = typeof options.fetch !== 'function';
  const fetch: GuardedFetch =
    typeof options.fetch === 'function' ? options.fetch : createGuardedFetch({ clock, ...options.fetch });
  const discovery = createDiscovery({ fetch, clock, ttlMs: limits.discoveryTtlMs });
  const budget = createRateBudget({
    clock,
    maxConcurrent: limits.maxConcurrentPerHost,
    ratePerSecond: limits.requestsPerSecondPerHost,
    burst: limits.burstPerHost,
    maxWaitMs: limits.maxBudgetWaitMs,
  });
  const adapters = adapterTable(options.adapters ?? []);
  const cache = createTokenCache(
    { clock, maxEntries: limits.cacheEntries, unknownExpiryTtlMs: limits.unknownExpiryTtlMs },
    fetchToken,
  );

  function notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      logger.warn(
        { hookError: error instanceof Error ? error.name : typeof error },
        'token engine observer threw',
      );
    }
  }

  /** Where the token request goes, before any network request (for labels and the budget). */
  function nominalHost(request: TokenRequest): string {
    try {
      const flavour = request.flavour ?? 'standard';
      if (flavour === 'standard') return new URL(request.client.tokenEndpoint ?? request.client.issuer).host;
      return adapterFor(flavour).tokenEndpoint(request).host;
    } catch {
      return 'invalid';
    }
  }

  function adapterFor(flavour: Flavour): TokenAdapter {
    const adapter = adapters.get(flavour);
    if (adapter === undefined) {
      throw new OAuthError('invalid_configuration', `no token adapter for flavour ${flavour}`);
    }
    return adapter;
  }

  async function standardServer(client: ClientConfig): Promise<DiscoveredServer> {
    const server = await discovery.resolve(client.issuer, client.tokenEndpoint);
    const revocation = client.revocationEndpoint;
    // A configured revocation endpoint wins over discovery's; it is fetched through the same guard.
    if (revocation === undefined) return server;
    return {
      ...server,
      metadata: { ...server.metadata, revocation_endpoint: revocation },
      revocationEndpoint: revocation,
    };
  }

  async function fetchToken(request: TokenRequest, markSent: () => void): Promise<TokenSet> {
    const flavour = request.flavour ?? 'standard';
    const grant = request.grant.type;
    const started = clock.now();
    let host = nominalHost(request);
    let sent = false;
    try {
      let send: () => Promise<TokenSet>;
      if (flavour === 'standard') {
        const server = await standardServer(request.client);
        host = new URL(server.tokenEndpoint).host;
        const auth = await createClientAuth(request.client);
        const configuration = buildConfiguration(
          server,
          request.client.clientId,
          request.client.authMethod,
          auth,
          fetch,
        );
        send = () => requestToken(configuration, request, { clock, host });
      } else {
        const adapter = adapterFor(flavour);
        send = () => adapter.requestToken({ fetch, clock }, request);
      }
      const permit = await budget.acquire(host);
      try {
        markSent();
        sent = true;
        const tokenSet = await send();
        const event: TokenRequestEvent = {
          host,
          clientId: request.client.clientId,
          flavour,
          grant,
          outcome: 'success',
          sent,
          durationMs: clock.now() - started,
        };
        notify(() => observer.tokenRequest?.(event));
        logger.debug(
          {
            host,
            flavour,
            grant,
            durationMs: clock.now() - started,
            expiresAt: tokenSet.expiresAt,
            rotated: tokenSet.refreshToken !== undefined,
          },
          'token obtained',
        );
        return tokenSet;
      } finally {
        permit.release();
      }
    } catch (caught) {
      const error =
        caught instanceof OAuthError
          ? caught
          : new OAuthError('invalid_response', `token request to ${host} failed unexpectedly`);
      if (error.code === 'rate_limited' && sent) budget.penalize(host, error.retryAfterMs);
      const event: TokenRequestEvent = {
        host,
        clientId: request.client.clientId,
        flavour,
        grant,
        outcome: error.code,
        sent,
        durationMs: clock.now() - started,
      };
      notify(() => observer.tokenRequest?.(event));
      logger.warn(
        {
          host,
          flavour,
          grant,
          code: error.code,
          status: error.status,
          retryable: error.retryable,
          retryAfterMs: error.retryAfterMs,
        },
        'token request failed',
      );
      throw error;
    }
  }

  return {
    async resolveClient(client, flavour = 'standard') {
      if (flavour !== 'standard') {
        return {
          tokenEndpoint: adapterFor(flavour).tokenEndpoint({ client, grant: { type: 'client_credentials' } })
            .href,
          authMethod: client.authMethod,
          warnings: [],
        };
      }
      const server = await standardServer(client);
      await createClientAuth(client);
      const warning = authMethodWarning(server, client.authMethod);
      return {
        tokenEndpoint: server.tokenEndpoint,
        ...(server.revocationEndpoint === undefined ? {} : { revocationEndpoint: server.revocationEndpoint }),
        authMethod: client.authMethod,
        warnings: warning === undefined ? [] : [warning],
      };
    },

    async getToken(request, getOptions) {
      const { tokenSet, source } = await cache.getToken(request, getOptions);
      if (source !== 'fetched') {
        const event: CacheHitEvent = {
          host: nominalHost(request),
          flavour: request.flavour ?? 'standard',
          source,
        };
        notify(() => observer.cacheHit?.(event));
      }
      return tokenSet;
    },

    seed(request, tokenSet) {
      cache.seed(request, tokenSet);
    },

    invalidate(request) {
      cache.invalidate(request);
    },

    async revoke(client, token, hint = 'access_token') {
      const server = await standardServer(client);
      if (server.revocationEndpoint === undefined) return false;
      const host = new URL(server.revocationEndpoint).host;
      const configuration = buildConfiguration(
        server,
        client.clientId,
        client.authMethod,
        await createClientAuth(client),
        fetch,
      );
      const permit = await budget.acquire(host);
      try {
        await revokeToken(configuration, token, hint, { clock, host });
      } catch (error) {
        if (error instanceof OAuthError && error.code === 'rate_limited')
          budget.penalize(host, error.retryAfterMs);
        throw error;
      } finally {
        permit.release();
      }
      cache.forget(token);
      logger.debug({ host, hint }, 'token revoked');
      return true;
    },

    async close() {
      budget.close();
      if (ownsFetch) await fetch.close();
    },
  };
}

/** The adapters by flavour; two for one flavour, or one claiming `standard`, is a programming error. */
function adapterTable(adapters: readonly TokenAdapter[]): ReadonlyMap<Flavour, TokenAdapter> {
  const table = new Map<Flavour, TokenAdapter>();
  for (const adapter of adapters) {
    if (adapter.flavour === 'standard' || table.has(adapter.flavour)) {
      throw new Error(`token adapter flavour ${adapter.flavour} is taken`);
    }
    table.set(adapter.flavour, adapter);
  }
  return table;
}
