// Where a client's token and revocation endpoints are. A static `tokenEndpoint` needs no request;
// otherwise OpenID Connect discovery (`/.well-known/openid-configuration`), then RFC 8414
// (`/.well-known/oauth-authorization-server`) when the first finds no metadata. Results are cached per
// (issuer, tokenEndpoint) for a TTL on the injected clock, and concurrent lookups share one request.
// Every request goes through the guarded fetch.
import {
  allowInsecureRequests,
  Configuration,
  customFetch,
  discovery,
  type ClientAuth,
  type ServerMetadata,
} from 'openid-client';
import type { Clock } from '../clock.ts';
import { toOAuthError } from './error-mapping.ts';
import { OAuthError } from './errors.ts';
import type { GuardedFetch } from './guarded-fetch.ts';
import type { AuthMethod } from './types.ts';

export const DEFAULT_DISCOVERY_TTL_MS = 60 * 60 * 1000;
const MAX_CACHED_SERVERS = 1000;

export interface DiscoveredServer {
  metadata: ServerMetadata;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** token_endpoint_auth_methods_supported, when the metadata lists them. */
  authMethodsSupported?: string[];
  source: 'static' | 'oidc' | 'oauth2';
}

export interface Discovery {
  resolve(issuer: string, tokenEndpoint?: string): Promise<DiscoveredServer>;
  invalidate(issuer: string, tokenEndpoint?: string): void;
}

export interface DiscoveryOptions {
  fetch: GuardedFetch;
  clock: Clock;
  ttlMs?: number;
}

export function createDiscovery(options: DiscoveryOptions): Discovery {
  const ttlMs = options.ttlMs ?? DEFAULT_DISCOVERY_TTL_MS;
  const cache = new Map<string, { server: DiscoveredServer; expiresAt: number }>();
  const inFlight = new Map<string, Promise<DiscoveredServer>>();
  const cacheKey = (issuer: string, tokenEndpoint?: string) => `${issuer}\n${tokenEndpoint ?? ''}`;

  async function fetchMetadata(issuer: string): Promise<DiscoveredServer> {
    const url = parseEndpoint(issuer, 'issuer');
    try {
      return await discover(url, 'oidc', options.fetch, options.clock);
    } catch (error) {
      // Only "no usable metadata here" falls back; refusals, timeouts and network errors do not.
      if (!(error instanceof OAuthError) || !['discovery_failed', 'invalid_response'].includes(error.code)) {
        throw error;
      }
      return discover(url, 'oauth2', options.fetch, options.clock);
    }
  }

  return {
    async resolve(issuer, tokenEndpoint) {
      if (tokenEndpoint !== undefined) return staticServer(issuer, tokenEndpoint);
      const key = cacheKey(issuer, tokenEndpoint);
      const cached = cache.get(key);
      if (cached !== undefined && cached.expiresAt > options.clock.now()) return cached.server;
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const request = fetchMetadata(issuer)
        .then((server) => {
          cache.delete(key);
          cache.set(key, { server, expiresAt: options.clock.now() + ttlMs });
          for (const oldest of cache.keys()) {
            if (cache.size <= MAX_CACHED_SERVERS) break;
            cache.delete(oldest);
          }
          return server;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, request);
      return request;
    },
    invalidate(issuer, tokenEndpoint) {
      cache.delete(cacheKey(issuer, tokenEndpoint));
    },
  };
}

async function discover(
  issuer: URL,
  algorithm: 'oidc' | 'oauth2',
  fetch: GuardedFetch,
  clock: Clock,
): Promise<DiscoveredServer> {
  let metadata: ServerMetadata;
  try {
    const configuration = await discovery(issuer, 'coffre-discovery', undefined, undefined, {
      algorithm,
      [customFetch]: fetch,
      // Insecure mode is an explicit, documented opt-in of the guarded fetch (local development only).
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      ...(fetch.allowHttp ? { execute: [allowInsecureRequests] } : {}),
    });
    metadata = configuration.serverMetadata();
  } catch (error) {
    throw toOAuthError(error, { phase: 'discovery', host: issuer.host, now: clock.now() });
  }
  const tokenEndpoint = metadata.token_endpoint;
  if (typeof tokenEndpoint !== 'string' || URL.parse(tokenEndpoint) === null) {
    throw new OAuthError('discovery_failed', `discovery at ${issuer.host} found no valid token_endpoint`);
  }
  const revocation = metadata.revocation_endpoint;
  const methods = metadata.token_endpoint_auth_methods_supported;
  return {
    metadata,
    tokenEndpoint,
    ...(typeof revocation === 'string' && URL.parse(revocation) !== null
      ? { revocationEndpoint: revocation }
      : {}),
    ...(Array.isArray(methods)
      ? {
          authMethodsSupported: methods.filter(
            (m) => typeof m === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(m),
          ),
        }
      : {}),
    source: algorithm,
  };
}

function staticServer(issuer: string, tokenEndpoint: string): DiscoveredServer {
  parseEndpoint(issuer, 'issuer');
  parseEndpoint(tokenEndpoint, 'tokenEndpoint');
  return { metadata: { issuer, token_endpoint: tokenEndpoint }, tokenEndpoint, source: 'static' };
}

function parseEndpoint(value: string, field: string): URL {
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new OAuthError('invalid_configuration', `${field} is not an http(s) URL`);
  }
  return url;
}

/** A warning when the server's metadata lists auth methods and not ours (it may still accept it). */
export function authMethodWarning(server: DiscoveredServer, authMethod: AuthMethod): string | undefined {
  const supported = server.authMethodsSupported;
  if (supported === undefined || supported.includes(authMethod)) return undefined;
  return `the server does not list ${authMethod} in token_endpoint_auth_methods_supported (it lists ${supported.slice(0, 8).join(', ')})`;
}

/** An openid-client Configuration for one client of a resolved server, on the guarded fetch. */
export function buildConfiguration(
  server: DiscoveredServer,
  clientId: string,
  authMethod: AuthMethod,
  clientAuth: ClientAuth,
  fetch: GuardedFetch,
): Configuration {
  const configuration = new Configuration(
    server.metadata,
    clientId,
    { token_endpoint_auth_method: authMethod },
    clientAuth,
  );
  configuration[customFetch] = fetch;
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- explicit insecure mode, see above
  if (fetch.allowHttp) allowInsecureRequests(configuration);
  return configuration;
}
