// The OAuth engine's public surface. Reconcilers import from here, nothing deeper.
//
//   const engine = createTokenEngine({ fetch: { allowedCIDRs, ca }, clock, logger, limits, observer });
//   await engine.resolveClient(client)            -> { tokenEndpoint, revocationEndpoint?, warnings }
//   await engine.getToken(request, { minTtlMs })  -> TokenSet (shared: one request for N callers)
//   engine.seed(request, tokenSet)                   after a restart, from the target Secret
//   await engine.revoke(client, token, hint)      -> false when the server has no revocation endpoint
//   await engine.close()
//
// Failures are OAuthErrors: decide on `code` / `retryable` / `retryAfterMs` (catalogue in errors.ts and
// docs/oauth-engine.md). A TokenSet with a `refreshToken` must be persisted before its access token is
// used (see TokenSet).
export {
  createTokenEngine,
  DEFAULT_LIMITS,
  type CacheHitEvent,
  type TokenEngine,
  type TokenEngineLimits,
  type TokenEngineObserver,
  type TokenEngineOptions,
  type TokenRequestEvent,
} from './engine.ts';
export {
  isOAuthError,
  OAuthError,
  OAuthErrorCatalogue,
  OAuthErrorCodes,
  type OAuthErrorCode,
} from './errors.ts';
export {
  createGuardedFetch,
  GUARDED_FETCH_DEFAULTS,
  type GuardedFetch,
  type GuardedFetchOptions,
} from './guarded-fetch.ts';
export { CLOUD_METADATA_ADDRESSES } from './address-policy.ts';
export type { GetTokenOptions } from './token-cache.ts';
export type { AdapterContext, TokenAdapter } from './token-adapter.ts';
export type {
  AuthMethod,
  ClientConfig,
  Flavour,
  Grant,
  ResolvedClient,
  TokenRequest,
  TokenSet,
} from './types.ts';
