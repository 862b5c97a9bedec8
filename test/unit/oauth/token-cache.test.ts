import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { OAuthError } from '../../../src/oauth/errors.ts';
import { createTokenCache, tokenCacheKey, type TokenFetcher } from '../../../src/oauth/token-cache.ts';
import type { ClientConfig, TokenRequest, TokenSet } from '../../../src/oauth/types.ts';
import { secret } from '../../../src/secrets/secret-value.ts';

const salt = new Uint8Array(32).fill(7);
const client: ClientConfig = {
  issuer: 'https://idp.example/',
  authMethod: 'client_secret_post',
  clientId: 'm2m',
  clientSecret: secret('CANARY-client-secret'),
};
const base: TokenRequest = {
  client,
  grant: { type: 'client_credentials' },
  audience: 'https://api/',
  scopes: ['b', 'a'],
};
const key = (request: TokenRequest) => tokenCacheKey(request, salt);

describe('tokenCacheKey', () => {
  it('is the same for requests that get the same token', () => {
    expect(key(base)).toBe(
      key({
        ...base,
        scopes: ['a', 'b', 'a'],
        client: { ...client, clientSecret: secret('CANARY-client-secret') },
      }),
    );
    expect(key({ ...base, resource: ['https://r2', 'https://r1'] })).toBe(
      key({ ...base, resource: ['https://r1', 'https://r2'] }),
    );
    expect(key({ ...base, audience: '' })).toBe(key({ ...base, audience: undefined }));
  });

  it.each<[string, TokenRequest]>([
    ['a rotated client secret', { ...base, client: { ...client, clientSecret: secret('CANARY-rotated') } }],
    ['another client id', { ...base, client: { ...client, clientId: 'other' } }],
    ['another auth method', { ...base, client: { ...client, authMethod: 'client_secret_basic' } }],
    ['another issuer', { ...base, client: { ...client, issuer: 'https://idp2.example/' } }],
    [
      'a static token endpoint',
      { ...base, client: { ...client, tokenEndpoint: 'https://idp.example/oauth/token' } },
    ],
    ['another audience', { ...base, audience: 'https://other/' }],
    ['other scopes', { ...base, scopes: ['a'] }],
    ['a resource', { ...base, resource: ['https://r1'] }],
    ['another flavour', { ...base, flavour: 'shopify' }],
    ['another partition (namespace)', { ...base, partition: 'tenant-b' }],
    [
      'a refresh token grant',
      { ...base, grant: { type: 'refresh_token', refreshToken: secret('CANARY-rt-1') } },
    ],
  ])('differs for %s', (_name, other) => {
    expect(key(other)).not.toBe(key(base));
  });

  it('never shares between two refresh tokens', () => {
    const one = { ...base, grant: { type: 'refresh_token' as const, refreshToken: secret('CANARY-rt-1') } };
    const two = { ...base, grant: { type: 'refresh_token' as const, refreshToken: secret('CANARY-rt-2') } };
    expect(key(one)).not.toBe(key(two));
  });

  it('holds fingerprints, never the credentials', () => {
    const refreshing = {
      ...base,
      grant: { type: 'refresh_token' as const, refreshToken: secret('CANARY-rt-1') },
    };
    expect(key(refreshing)).not.toContain('CANARY');
    expect(key(refreshing)).toContain('"clientId":"m2m"');
  });

  it('depends on the salt', () => {
    expect(tokenCacheKey(base, new Uint8Array(32).fill(8))).not.toBe(key(base));
  });
});

function token(clock: FakeClock, lifetimeMs: number | undefined, name = 'token'): TokenSet {
  return {
    accessToken: secret(name),
    tokenType: 'Bearer',
    issuedAt: clock.now(),
    ...(lifetimeMs === undefined ? {} : { expiresAt: clock.now() + lifetimeMs }),
  };
}

/** A fetcher whose requests the test settles by hand. */
function manualFetcher(clock: FakeClock) {
  const pending: {
    request: TokenRequest;
    resolve: (t: TokenSet) => void;
    reject: (e: Error) => void;
    markSent: () => void;
  }[] = [];
  let calls = 0;
  const fetcher: TokenFetcher = (request, markSent) => {
    calls += 1;
    return new Promise((resolve, reject) => pending.push({ request, resolve, reject, markSent }));
  };
  return {
    fetcher,
    get calls() {
      return calls;
    },
    pending,
    async settle(lifetimeMs = 60_000, name = `token-${calls}`) {
      await clock.advance(0);
      const next = pending.shift();
      if (next === undefined) throw new Error('no pending request');
      next.resolve(token(clock, lifetimeMs, name));
      await clock.advance(0);
    },
  };
}

describe('createTokenCache', () => {
  it('makes one request for many concurrent callers and serves the cache afterwards', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const callers = Array.from({ length: 100 }, () => cache.getToken(base));
    await server.settle();
    const results = await Promise.all(callers);
    expect(server.calls).toBe(1);
    expect(new Set(results.map((r) => r.tokenSet)).size).toBe(1);
    expect(results.filter((r) => r.source === 'fetched')).toHaveLength(1);
    expect((await cache.getToken(base)).source).toBe('cache');
    expect(server.calls).toBe(1);
  });

  it('never hands a token of one partition to a caller in another, nor a token seeded there', async () => {
    const clock = new FakeClock(0);
    let fetched = 0;
    const cache = createTokenCache({ clock, salt }, () => {
      fetched += 1;
      return Promise.resolve({
        accessToken: secret(`t${fetched}`),
        tokenType: 'Bearer',
        issuedAt: 0,
        expiresAt: 60_000,
      });
    });
    cache.seed(
      { ...base, partition: 'tenant-a' },
      {
        accessToken: secret('planted-by-tenant-a'),
        tokenType: 'Bearer',
        issuedAt: 0,
        expiresAt: 60_000,
      },
    );
    const b = await cache.getToken({ ...base, partition: 'tenant-b' });
    expect(b.source).toBe('fetched');
    expect(b.tokenSet.accessToken.reveal()).toBe('t1');
    const a = await cache.getToken({ ...base, partition: 'tenant-a' });
    expect(a.tokenSet.accessToken.reveal()).toBe('planted-by-tenant-a');
    expect(fetched).toBe(1);
  });

  it('fetches again when the token would expire within minTtlMs', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const first = cache.getToken(base);
    await server.settle(60_000);
    await first;
    await clock.advance(50_000);
    expect((await cache.getToken(base, { minTtlMs: 5_000 })).source).toBe('cache');
    const second = cache.getToken(base, { minTtlMs: 20_000 });
    await server.settle(60_000);
    expect((await second).source).toBe('fetched');
    expect(server.calls).toBe(2);
  });

  it('shares a failure among the callers of one flight and caches nothing', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const callers = [cache.getToken(base), cache.getToken(base)];
    await clock.advance(0);
    server.pending.shift()?.reject(new Error('down'));
    await expect(Promise.all(callers)).rejects.toThrow('down');
    const retry = cache.getToken(base);
    await server.settle();
    expect((await retry).source).toBe('fetched');
    expect(server.calls).toBe(2);
  });

  it('lets forced callers join a request not yet sent', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const callers = Array.from({ length: 10 }, () => cache.getToken(base, { force: true }));
    await server.settle();
    await Promise.all(callers);
    expect(server.calls).toBe(1);
  });

  it('queues a forced caller behind a request already sent, shared by later forced callers', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const first = cache.getToken(base);
    await clock.advance(0);
    server.pending[0]?.markSent();
    const forced = [cache.getToken(base, { force: true }), cache.getToken(base, { force: true })];
    await server.settle(60_000, 'old');
    expect((await first).tokenSet.accessToken.reveal()).toBe('old');
    await server.settle(60_000, 'new');
    const results = await Promise.all(forced);
    expect(results.map((r) => r.tokenSet.accessToken.reveal())).toEqual(['new', 'new']);
    expect(server.calls).toBe(2);
    expect((await cache.getToken(base)).tokenSet.accessToken.reveal()).toBe('new');
  });

  it('serves a seeded token without any request, and keeps the newer of two', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    const seeded = token(clock, 60_000, 'from-secret');
    cache.seed(base, seeded);
    cache.seed(base, { ...token(clock, 60_000, 'older'), issuedAt: clock.now() - 1 });
    expect(await cache.getToken(base)).toEqual({ tokenSet: seeded, source: 'cache' });
    expect(server.calls).toBe(0);
  });

  it('forgets on invalidate and on forget(token)', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt }, server.fetcher);
    cache.seed(base, token(clock, 60_000, 'a'));
    cache.invalidate(base);
    const refetch = cache.getToken(base);
    await server.settle(60_000, 'b');
    await refetch;
    cache.forget(secret('b'));
    const again = cache.getToken(base);
    await server.settle(60_000, 'c');
    expect((await again).tokenSet.accessToken.reveal()).toBe('c');
  });

  it('reuses a token of unknown expiry for unknownExpiryTtlMs', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt, unknownExpiryTtlMs: 10_000 }, server.fetcher);
    cache.seed(base, token(clock, undefined));
    await clock.advance(9_000);
    expect((await cache.getToken(base)).source).toBe('cache');
    await clock.advance(2_000);
    const refetch = cache.getToken(base);
    await server.settle();
    expect((await refetch).source).toBe('fetched');
  });

  it('stays within maxEntries, evicting expired entries first', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt, maxEntries: 3 }, server.fetcher);
    const request = (audience: string): TokenRequest => ({ ...base, audience });
    cache.seed(request('a'), token(clock, 1_000));
    cache.seed(request('b'), token(clock, 60_000));
    cache.seed(request('c'), token(clock, 60_000));
    await clock.advance(2_000);
    cache.seed(request('d'), token(clock, 60_000));
    expect(cache.size).toBe(3);
    expect((await cache.getToken(request('b'))).source).toBe('cache');
    cache.seed(request('e'), token(clock, 60_000));
    expect(cache.size).toBe(3);
    // c was the least recently used live entry.
    expect((await cache.getToken(request('b'))).source).toBe('cache');
    expect((await cache.getToken(request('d'))).source).toBe('cache');
    expect((await cache.getToken(request('e'))).source).toBe('cache');
    const c = cache.getToken(request('c'));
    await server.settle();
    expect((await c).source).toBe('fetched');
  });

  it('never evicts a request in flight, and makes room again once requests settle', async () => {
    const clock = new FakeClock();
    const server = manualFetcher(clock);
    const cache = createTokenCache({ clock, salt, maxEntries: 2 }, server.fetcher);
    const request = (audience: string): TokenRequest => ({ ...base, audience });
    const inFlight = ['a', 'b', 'c', 'd'].map((audience) => cache.getToken(request(audience)));
    await clock.advance(0);
    // Nothing idle to drop: the cache holds all four while their requests are on the wire.
    expect(cache.size).toBe(4);
    for (let i = 0; i < 4; i += 1) await server.settle();
    await Promise.all(inFlight);
    // The next new key drops the three least recently used (a, b, c), all valid.
    cache.seed(request('e'), token(clock, 60_000));
    expect(cache.size).toBe(2);
    expect((await cache.getToken(request('d'))).source).toBe('cache');
    expect((await cache.getToken(request('e'))).source).toBe('cache');
    const a = cache.getToken(request('a'));
    await server.settle();
    expect((await a).source).toBe('fetched');
  });

  it('evicts in one pass per new key: 5,000 keys through a full cache of 1,000', () => {
    const clock = new FakeClock();
    const now = { calls: 0 };
    const counting: Clock = {
      now: () => {
        now.calls += 1;
        return clock.now();
      },
      setTimer: (ms, fn) => clock.setTimer(ms, fn),
      sleep: (ms, signal) => clock.sleep(ms, signal),
    };
    const cache = createTokenCache({ clock: counting, salt, maxEntries: 1_000 }, () => {
      throw new Error('no request expected');
    });
    for (let i = 0; i < 5_000; i += 1) cache.seed({ ...base, audience: `a${i}` }, token(clock, 60_000));
    expect(cache.size).toBe(1_000);
    // One clock read per eviction, not one per cached entry (quadratic: 4,000 x 1,000).
    expect(now.calls).toBeLessThanOrEqual(2 * 5_000);
  });

  describe('refresh token rotation', () => {
    const refreshing = (refreshToken: string): TokenRequest => ({
      ...base,
      grant: { type: 'refresh_token', refreshToken: secret(refreshToken) },
    });
    const sentRefreshToken = (request: TokenRequest | undefined) =>
      request?.grant.type === 'refresh_token' ? request.grant.refreshToken.reveal() : undefined;

    async function rotate(server: ReturnType<typeof manualFetcher>, clock: FakeClock, to: string) {
      await clock.advance(0);
      const next = server.pending.shift();
      next?.resolve({ ...token(clock, 60_000, `access-${to}`), refreshToken: secret(to) });
      await clock.advance(0);
      return sentRefreshToken(next?.request);
    }

    it('never sends a rotated refresh token again: its successor is used', async () => {
      const clock = new FakeClock();
      const server = manualFetcher(clock);
      const cache = createTokenCache({ clock, salt }, server.fetcher);
      const first = cache.getToken(refreshing('rt-1'));
      expect(await rotate(server, clock, 'rt-2')).toBe('rt-1');
      expect((await first).tokenSet.refreshToken?.reveal()).toBe('rt-2');

      // The holder of rt-2 is served from the cache.
      expect((await cache.getToken(refreshing('rt-2'))).source).toBe('cache');

      // Once expired, a caller still holding rt-1 gets a token through rt-2, and learns rt-3.
      await clock.advance(61_000);
      const late = cache.getToken(refreshing('rt-1'));
      expect(await rotate(server, clock, 'rt-3')).toBe('rt-2');
      expect((await late).tokenSet.refreshToken?.reveal()).toBe('rt-3');
      expect(server.calls).toBe(2);
    });

    it('lets a forced caller queued behind a rotation use the rotated refresh token', async () => {
      const clock = new FakeClock();
      const server = manualFetcher(clock);
      const cache = createTokenCache({ clock, salt }, server.fetcher);
      const first = cache.getToken(refreshing('rt-1'));
      await clock.advance(0);
      server.pending[0]?.markSent();
      const forced = cache.getToken(refreshing('rt-1'), { force: true });
      expect(await rotate(server, clock, 'rt-2')).toBe('rt-1');
      await first;
      expect(await rotate(server, clock, 'rt-3')).toBe('rt-2');
      expect((await forced).tokenSet.refreshToken?.reveal()).toBe('rt-3');
    });

    it('fails at once, without a request, for a refresh token the server refused for good', async () => {
      const clock = new FakeClock();
      const server = manualFetcher(clock);
      const cache = createTokenCache({ clock, salt }, server.fetcher);
      const first = cache.getToken(refreshing('rt-dead'));
      await clock.advance(0);
      server.pending.shift()?.reject(new OAuthError('reauthorization_required', 'gone'));
      await expect(first).rejects.toMatchObject({ code: 'reauthorization_required' });
      await expect(cache.getToken(refreshing('rt-dead'), { force: true })).rejects.toMatchObject({
        code: 'reauthorization_required',
      });
      expect(server.calls).toBe(1);
    });

    it('retries a refresh token after a transient failure', async () => {
      const clock = new FakeClock();
      const server = manualFetcher(clock);
      const cache = createTokenCache({ clock, salt }, server.fetcher);
      const first = cache.getToken(refreshing('rt-1'));
      await clock.advance(0);
      server.pending.shift()?.reject(new OAuthError('server_error', 'down'));
      await expect(first).rejects.toMatchObject({ code: 'server_error' });
      const retry = cache.getToken(refreshing('rt-1'));
      expect(await rotate(server, clock, 'rt-2')).toBe('rt-1');
      await retry;
    });
  });
});
