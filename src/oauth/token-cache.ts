// Token sharing. Requests that would get the same token from the server (same endpoint, client,
// credential, grant, audience, resources and scopes) in the same partition (the operator's: a namespace)
// share one cached token and one request in flight:
// N callers, one token request per token lifetime (Auth0 bills M2M tokens). Keys hold salted HMAC
// fingerprints of the credentials, never the credentials; a rotated client secret or private key
// changes the key, so a token minted with the old credential is not handed out for the new one.
// refresh_token grants are keyed by their refresh token's fingerprint: two refresh tokens never share;
// a refresh token the server rotated is never sent again (its successor is used), and one the server
// refused for good (reauthorization_required) fails at once without another request.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import { OAuthError } from './errors.ts';
import type { TokenRequest, TokenSet } from './types.ts';

export const TOKEN_CACHE_DEFAULTS = {
  maxEntries: 1000,
  /** How long a token without a known expiry is reused. */
  unknownExpiryTtlMs: 5 * 60 * 1000,
} as const;

export interface TokenCacheOptions {
  clock: Clock;
  maxEntries?: number;
  unknownExpiryTtlMs?: number;
  /** HMAC key for fingerprints; random per cache unless given (tests). */
  salt?: Uint8Array;
}

export interface GetTokenOptions {
  /** Return the cached token only if it stays valid for more than this; else fetch. Default 0. */
  minTtlMs?: number;
  /**
   * Bypass the cached token (e.g. the API rejected it). Joins a request not yet sent, or queues one
   * behind a request already on the wire, so concurrent forced callers still share one request.
   */
  force?: boolean;
}

export type TokenSource = 'cache' | 'joined' | 'fetched';

/** Fetches a token; calls `markSent()` just before the request goes on the wire. */
export type TokenFetcher = (request: TokenRequest, markSent: () => void) => Promise<TokenSet>;

interface Flight {
  promise: Promise<TokenSet>;
  sent: boolean;
  /** Starts a queued flight; absent once started. */
  start?: () => void;
}

interface Entry {
  token?: TokenSet;
  current?: Flight;
  next?: Flight;
  /** refresh_token grants: the request with the refresh token the server rotated this one into. */
  successor?: TokenRequest;
  /** refresh_token grants: the server refused this refresh token for good. */
  dead?: OAuthError;
}

export interface TokenCache {
  getToken(
    request: TokenRequest,
    options?: GetTokenOptions,
  ): Promise<{ tokenSet: TokenSet; source: TokenSource }>;
  /** Preloads a token (read back from its Secret after a restart); kept only if newer than the cached one. */
  seed(request: TokenRequest, tokenSet: TokenSet): void;
  invalidate(request: TokenRequest): void;
  /** Drops every cached token equal to this one (after revocation). */
  forget(accessToken: SecretValue): void;
  keyOf(request: TokenRequest): string;
  readonly size: number;
}

export function createTokenCache(options: TokenCacheOptions, fetcher: TokenFetcher): TokenCache {
  const clock = options.clock;
  const maxEntries = options.maxEntries ?? TOKEN_CACHE_DEFAULTS.maxEntries;
  const unknownExpiryTtlMs = options.unknownExpiryTtlMs ?? TOKEN_CACHE_DEFAULTS.unknownExpiryTtlMs;
  const salt = options.salt ?? randomBytes(32);
  const entries = new Map<string, Entry>();

  const expiresAt = (token: TokenSet) => token.expiresAt ?? token.issuedAt + unknownExpiryTtlMs;
  const validFor = (token: TokenSet) => expiresAt(token) - clock.now();

  function entryFor(key: string): Entry {
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = {};
      entries.set(key, entry);
      evict(key);
    } else {
      // Most recently used last.
      entries.delete(key);
      entries.set(key, entry);
    }
    return entry;
  }

  /**
   * Drops idle entries beyond maxEntries: expired or empty ones first, then least recently used. One
   * pass in recency order, with no copy of the map: it runs on every new key once the cache is full (a
   * burst of new connections), where a copy and two filters per insertion made a burst quadratic.
   */
  function evict(keep: string): void {
    let excess = entries.size - maxEntries;
    if (excess <= 0) return;
    const now = clock.now();
    // Idle entries with a valid token, least recently used first: dropped only if the expired ones do not
    // make room.
    const valid: string[] = [];
    for (const [key, entry] of entries) {
      if (key === keep || entry.current !== undefined || entry.next !== undefined) continue;
      if (entry.token === undefined || expiresAt(entry.token) <= now) {
        entries.delete(key);
        excess -= 1;
        if (excess === 0) return;
      } else if (valid.length < excess) {
        valid.push(key);
      }
    }
    for (const key of valid.slice(0, excess)) entries.delete(key);
  }

  function store(entry: Entry, token: TokenSet): void {
    if (entry.token === undefined || token.issuedAt >= entry.token.issuedAt) entry.token = token;
  }

  function flight(entry: Entry, request: TokenRequest, queued: boolean): Flight {
    const state: Flight = { sent: false, promise: Promise.resolve() as unknown as Promise<TokenSet> };
    const run = (): Promise<TokenSet> => {
      // A queued flight starts after another one, which may have rotated or killed the refresh token.
      if (entry.dead !== undefined) return Promise.reject(entry.dead);
      if (entry.successor !== undefined) {
        return cache.getToken(entry.successor, { force: true }).then(({ tokenSet }) => tokenSet);
      }
      return fetcher(request, () => {
        state.sent = true;
      }).then(
        (token) => {
          store(entry, token);
          recordRotation(entry, request, token);
          return token;
        },
        (error: unknown) => {
          if (error instanceof OAuthError && error.code === 'reauthorization_required') entry.dead = error;
          throw error;
        },
      );
    };
    if (queued) {
      state.promise = new Promise<TokenSet>((resolve, reject) => {
        state.start = () => {
          delete state.start;
          run().then(resolve, reject);
        };
      });
    } else {
      state.promise = run();
    }
    // Promote the queued flight once this one settles, whatever the outcome.
    state.promise.then(settle, settle);
    function settle(): void {
      if (entry.current !== state) return;
      entry.current = entry.next;
      delete entry.next;
      entry.current?.start?.();
    }
    return state;
  }

  /**
   * A rotated refresh token is never sent again: callers still holding it are served from its
   * successor (the token set they get carries the newest refresh token to persist).
   */
  function recordRotation(entry: Entry, request: TokenRequest, token: TokenSet): void {
    const rotated = token.refreshToken;
    if (request.grant.type !== 'refresh_token' || rotated === undefined) return;
    if (rotated.equals(request.grant.refreshToken)) return;
    const successor: TokenRequest = { ...request, grant: { type: 'refresh_token', refreshToken: rotated } };
    entry.successor = successor;
    store(entryFor(cache.keyOf(successor)), token);
  }

  const cache: TokenCache = {
    async getToken(request, getOptions = {}) {
      const minTtlMs = getOptions.minTtlMs ?? 0;
      const entry = entryFor(cache.keyOf(request));
      if (entry.dead !== undefined) throw entry.dead;
      if (getOptions.force !== true) {
        if (entry.token !== undefined && validFor(entry.token) > minTtlMs) {
          return { tokenSet: entry.token, source: 'cache' };
        }
        if (entry.current !== undefined) return { tokenSet: await entry.current.promise, source: 'joined' };
      } else if (entry.current !== undefined) {
        // A request already on the wire may carry the token the caller wants replaced: queue behind it.
        if (!entry.current.sent) return { tokenSet: await entry.current.promise, source: 'joined' };
        if (entry.next !== undefined) return { tokenSet: await entry.next.promise, source: 'joined' };
        entry.next = flight(entry, request, true);
        return { tokenSet: await entry.next.promise, source: 'fetched' };
      }
      if (entry.successor !== undefined) return cache.getToken(entry.successor, getOptions);
      entry.current = flight(entry, request, false);
      return { tokenSet: await entry.current.promise, source: 'fetched' };
    },
    seed(request, tokenSet) {
      store(entryFor(cache.keyOf(request)), tokenSet);
    },
    invalidate(request) {
      const entry = entries.get(cache.keyOf(request));
      if (entry !== undefined) delete entry.token;
    },
    forget(accessToken) {
      for (const entry of entries.values()) {
        if (entry.token?.accessToken.equals(accessToken) === true) delete entry.token;
      }
    },
    keyOf(request) {
      return tokenCacheKey(request, salt);
    },
    get size() {
      return entries.size;
    },
  };
  return cache;
}

/**
 * The sharing key: everything that makes the server's answer differ, with credentials replaced by
 * salted fingerprints. Readable (issuer, client id, scopes...) so that it can be compared in tests.
 */
export function tokenCacheKey(request: TokenRequest, salt: Uint8Array): string {
  const { client, grant } = request;
  const key = saltKey(salt);
  const fingerprint = (...parts: (string | undefined)[]) =>
    createHmac('sha256', key).update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
  const credential =
    client.authMethod === 'private_key_jwt'
      ? fingerprint(
          'private_key_jwt',
          client.privateKey?.pem.reveal(),
          client.privateKey?.keyId,
          client.privateKey?.algorithm,
        )
      : fingerprint(client.authMethod, client.clientSecret?.reveal());
  const sortedUnique = (values: readonly string[] | undefined) => [...new Set(values ?? [])].sort();
  return JSON.stringify({
    partition: request.partition ?? '',
    flavour: request.flavour ?? 'standard',
    issuer: client.issuer,
    tokenEndpoint: client.tokenEndpoint ?? null,
    clientId: client.clientId,
    authMethod: client.authMethod,
    credential,
    grant: grant.type,
    refreshToken:
      grant.type === 'refresh_token' ? fingerprint('refresh_token', grant.refreshToken.reveal()) : null,
    audience: request.audience === undefined || request.audience === '' ? null : request.audience,
    resource: sortedUnique(request.resource),
    scopes: sortedUnique(request.scopes),
    ...(request.expiresInSeconds === undefined ? {} : { expiresInSeconds: request.expiresInSeconds }),
  });
}

/** The salt as a KeyObject, made once per salt (createHmac would build one from the bytes each call). */
const saltKeys = new WeakMap<Uint8Array, KeyObject>();
function saltKey(salt: Uint8Array): KeyObject {
  let key = saltKeys.get(salt);
  if (key === undefined) {
    key = createSecretKey(salt);
    saltKeys.set(salt, key);
  }
  return key;
}
