// The guarded fetch against real (and hostile) HTTPS servers on 127.0.0.1.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLOUD_METADATA_ADDRESSES,
  describeRefusal,
  REFUSED_RANGES,
  type RefusedRange,
} from '../../src/oauth/address-policy.ts';
import { createGuardedFetch, type GuardedFetchOptions } from '../../src/oauth/guarded-fetch.ts';
import { OAuthError } from '../../src/oauth/errors.ts';
import { close, listen, type LocalHttpsServer } from '../../tools/local-https-server.ts';
import { streamBytes, useCertificateAuthority, useHttpsServers } from './support/servers.ts';

const authority = useCertificateAuthority();
const startServer = useHttpsServers(authority);
const LOCAL = ['127.0.0.1/32'];

/** A resolver that answers every name with these addresses. */
function fakeDns(addresses: string[]): LookupFunction {
  return (_hostname, _options, callback) => {
    (callback as (e: null, a: { address: string; family: number }[]) => void)(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

function guarded(options: GuardedFetchOptions = {}) {
  return createGuardedFetch({ ca: authority.ca.certPem, allowedCIDRs: LOCAL, ...options });
}

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('guarded fetch', () => {
  let hello: LocalHttpsServer;
  beforeAll(async () => {
    hello = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ userAgent: req.headers['user-agent'] }));
    });
  });

  it('fetches from an allowed https server, with the CA added to the default roots and its user agent', async () => {
    const fetch = guarded({ userAgent: 'coffre-test/1' });
    const response = await fetch(`${hello.url}/`, { headers: { 'user-agent': 'openid-client/x' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userAgent: 'coffre-test/1' });
    await fetch.close();
  });

  describe('refuses endpoints in private ranges (SSRF)', () => {
    it('refuses 127.0.0.1 without the allowlist, before connecting', async () => {
      const fetch = createGuardedFetch({ ca: authority.ca.certPem });
      hello.resetCounters();
      const error = await failure(fetch(`${hello.url}/`));
      expect(error.code).toBe('endpoint_refused');
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        `refused 127.0.0.1:${hello.port}: it is a loopback address (127.0.0.0/8, this host, RFC 1122)`,
      );
      expect(hello.requests()).toBe(0);
      await fetch.close();
    });

    it('refuses a hostname that resolves to a loopback address (localhost)', async () => {
      const fetch = createGuardedFetch({ ca: authority.ca.certPem });
      const error = await failure(fetch(`https://localhost:${hello.port}/`));
      expect(error.code).toBe('endpoint_refused');
      expect(error.message).toMatch(
        /^refused localhost: it resolves to a loopback address \((127\.0\.0\.0\/8|::1\/128), this host/,
      );
      await fetch.close();
    });

    it('refuses a hostname that resolves to a private address (custom lookup)', async () => {
      const lookup: LookupFunction = (_hostname, _options, callback) => {
        (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: '10.1.2.3', family: 4 },
        ]);
      };
      const fetch = createGuardedFetch({ lookup });
      const error = await failure(fetch('https://idp.internal.test/token'));
      expect(error.code).toBe('endpoint_refused');
      expect(error.message).toBe(
        'refused idp.internal.test: it resolves to a private address (10.0.0.0/8, RFC 1918)',
      );
      await fetch.close();
    });

    it('connects only to the allowed addresses among those DNS returns', async () => {
      const lookup = fakeDns(['169.254.169.254', '10.0.0.1', '127.0.0.1']);
      const fetch = guarded({ lookup });
      expect((await fetch(`https://localhost:${hello.port}/`)).status).toBe(200);
      await fetch.close();
    });

    it('names the first refused class when no address is allowed', async () => {
      const fetch = guarded({ lookup: fakeDns(['169.254.169.254', '10.0.0.1']) });
      const error = await failure(fetch(`https://metadata.test/`));
      expect(error.message).toBe(
        'refused metadata.test: it resolves to a cloud metadata endpoint (instance metadata: AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean)',
      );
      await fetch.close();
    });

    it.each([
      ['http://169.254.169.254/latest/meta-data/', 'a cloud metadata endpoint (instance metadata'],
      ['https://[fd00:ec2::254]/', 'a cloud metadata endpoint (AWS instance metadata over IPv6)'],
      ['https://[::ffff:169.254.169.254]/', 'a cloud metadata endpoint (instance metadata'],
      ['http://169.254.170.2/v2/credentials/x', 'a cloud metadata endpoint (AWS ECS task credentials)'],
      ['https://[64:ff9b::a9fe:aa17]/', 'a cloud metadata endpoint (AWS EKS Pod Identity credentials)'],
      ['https://[2002:a83f:8110::]/', 'a cloud metadata endpoint (Azure WireServer)'],
      ['https://[::ffff:0:100.100.100.200]/', 'a cloud metadata endpoint (Alibaba Cloud instance metadata)'],
      ['https://[fec0::1]/', 'a site-local address (fec0::/10'],
      ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'a tunnel address (2001::/32, Teredo'],
      ['https://10.0.0.1/', 'a private address'],
      ['https://[fe80::1]/', 'a link-local address'],
      ['https://100.64.0.1/', 'a shared (carrier-grade NAT) address'],
      ['https://0.0.0.0/', 'an unspecified address'],
    ])('refuses %s as %s', async (url, description) => {
      const fetch = createGuardedFetch({ allowHttp: true });
      const error = await failure(fetch(url));
      expect(error.code).toBe('endpoint_refused');
      expect(error.message).toContain(`is ${description}`);
      await fetch.close();
    });

    describe('refuses a hostname resolving to a metadata endpoint before sending a byte, even when everything is allowed', () => {
      const everything = ['0.0.0.0/0', '::/0'];

      it.each(CLOUD_METADATA_ADDRESSES)('%s', async (endpoint) => {
        const asked: string[] = [];
        const lookup: LookupFunction = (hostname, options, callback) => {
          asked.push(hostname);
          fakeDns([hostname === 'localhost' ? '127.0.0.1' : endpoint])(hostname, options, callback);
        };
        const connected: string[] = [];
        const sent: string[] = [];
        const onConnected = (message: unknown) => {
          connected.push((message as { connectParams: { hostname: string } }).connectParams.hostname);
        };
        const onHeaders = (message: unknown) => {
          sent.push(String((message as { request: { origin: unknown } }).request.origin));
        };
        subscribe('undici:client:connected', onConnected);
        subscribe('undici:client:sendHeaders', onHeaders);
        const fetch = guarded({ allowedCIDRs: everything, lookup });
        hello.resetCounters();
        try {
          const error = await failure(
            fetch(`https://idp.example.test:${hello.port}/token`, { method: 'POST', body: 'x=1' }),
          );
          expect(error.code).toBe('endpoint_refused');
          const row = REFUSED_RANGES.find((range) => range.cidr === endpoint);
          expect(row).toBeDefined();
          expect(error.message).toBe(
            `refused idp.example.test: it resolves to ${describeRefusal(row as RefusedRange)}`,
          );
          // The same fetch still reaches an allowed address: the refusal is the guard's, not the network's.
          expect((await fetch(`https://localhost:${hello.port}/`)).status).toBe(200);
        } finally {
          unsubscribe('undici:client:connected', onConnected);
          unsubscribe('undici:client:sendHeaders', onHeaders);
          await fetch.close();
        }
        expect(asked).toEqual(['idp.example.test', 'localhost']);
        expect(connected).toEqual(['localhost']);
        expect(sent).toEqual([`https://localhost:${hello.port}`]);
        expect(hello.requests()).toBe(1);
      });
    });

    it('allows a hostname resolving to an allowed address', async () => {
      const fetch = guarded();
      const response = await fetch(`https://localhost:${hello.port}/`);
      expect(response.status).toBe(200);
      await fetch.close();
    });

    it('rejects a malformed allowlist entry at creation', () => {
      expect(() => createGuardedFetch({ allowedCIDRs: ['10.0.0.0/40'] })).toThrow(
        expect.objectContaining({ code: 'invalid_configuration' }),
      );
    });
  });

  describe('insecure URLs', () => {
    let plain: Server;
    let plainUrl: string;
    let plainRequests = 0;
    beforeAll(async () => {
      plain = createHttpServer((_req, res) => {
        plainRequests += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      await listen(plain as never, 0);
      plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      await close(plain as never);
    });

    it('refuses http before connecting unless insecure mode is on', async () => {
      const fetch = guarded();
      const error = await failure(fetch(plainUrl));
      expect(error.code).toBe('insecure_url');
      expect(error.retryable).toBe(false);
      expect(plainRequests).toBe(0);
      await fetch.close();
    });

    it('allows http in insecure mode', async () => {
      const fetch = guarded({ allowHttp: true });
      expect((await fetch(plainUrl)).status).toBe(200);
      expect(plainRequests).toBe(1);
      await fetch.close();
    });

    it('refuses other schemes even in insecure mode', async () => {
      const fetch = guarded({ allowHttp: true });
      expect((await failure(fetch('file:///etc/passwd'))).code).toBe('insecure_url');
      await fetch.close();
    });
  });

  describe('redirects', () => {
    it('never follows a redirect to the metadata address, and never connects to it', async () => {
      const server = await startServer((_req, res) => {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
      });
      const attempted: string[] = [];
      const onConnect = (message: unknown) => {
        const params = (message as { connectParams?: { hostname?: string } }).connectParams;
        attempted.push(params?.hostname ?? '?');
      };
      subscribe('undici:client:beforeConnect', onConnect);
      const fetch = guarded({ allowHttp: true });
      try {
        const error = await failure(fetch(`${server.url}/token`, { method: 'POST', body: 'x=1' }));
        expect(error.code).toBe('redirect_refused');
        expect(error.retryable).toBe(false);
        expect(error.status).toBe(302);
        expect(error.message).not.toContain('169.254');
      } finally {
        unsubscribe('undici:client:beforeConnect', onConnect);
        await fetch.close();
      }
      expect(attempted).toContain('127.0.0.1');
      expect(attempted).not.toContain('169.254.169.254');
    });

    it('does not follow a redirect to an allowed host either', async () => {
      const target = await startServer((_req, res) => {
        res.writeHead(200).end('{}');
      });
      const server = await startServer((_req, res) => {
        res.writeHead(307, { location: `${target.url}/elsewhere` }).end();
      });
      const fetch = guarded();
      expect((await failure(fetch(`${server.url}/`))).code).toBe('redirect_refused');
      expect(target.requests()).toBe(0);
      await fetch.close();
    });
  });

  describe('time limits', () => {
    it('times out when the headers never come', async () => {
      const server = await startServer(() => undefined);
      const fetch = guarded({ totalTimeoutMs: 300 });
      const started = performance.now();
      const error = await failure(fetch(`${server.url}/`));
      expect(error.code).toBe('timeout');
      expect(error.retryable).toBe(true);
      expect(performance.now() - started).toBeLessThan(5_000);
      await fetch.close();
    });

    it('times out when the body stalls after the headers (the limit covers the body)', async () => {
      const server = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"access_token":"');
      });
      const fetch = guarded({ totalTimeoutMs: 300 });
      expect((await failure(fetch(`${server.url}/`))).code).toBe('timeout');
      await fetch.close();
    });
  });

  describe('response size', () => {
    const fiftyMegabytes = 50 * 1024 * 1024;

    it('aborts a 50 MB streamed body at the cap, without reading it all', async () => {
      let written: Promise<number> | undefined;
      const server = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        written = streamBytes(res, fiftyMegabytes);
      });
      const fetch = guarded({ maxResponseBytes: 1024 * 1024 });
      const error = await failure(fetch(`${server.url}/`));
      expect(error.code).toBe('response_too_large');
      expect(error.retryable).toBe(true);
      await fetch.close();
      // The client hung up long before the server could send it all.
      expect(await written).toBeLessThan(16 * 1024 * 1024);
    });

    it('refuses a declared Content-Length over the cap before reading', async () => {
      let written: Promise<number> | undefined;
      const server = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(fiftyMegabytes) });
        written = streamBytes(res, fiftyMegabytes);
      });
      const fetch = guarded({ maxResponseBytes: 1024 * 1024 });
      expect((await failure(fetch(`${server.url}/`))).code).toBe('response_too_large');
      await fetch.close();
      expect(await written).toBeLessThan(16 * 1024 * 1024);
    });

    it.each([
      [1024 * 1024, 200],
      [1024 * 1024 + 1, 'response_too_large'],
    ])('draws the line exactly at the cap (%i bytes)', async (size, expected) => {
      const server = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(size, 0x61));
      });
      const fetch = guarded({ maxResponseBytes: 1024 * 1024 });
      const outcome = await fetch(`${server.url}/`).then(
        (response) => response.status,
        (error: unknown) => (error as OAuthError).code,
      );
      expect(outcome).toBe(expected);
      await fetch.close();
    });
  });

  it('reports a refused connection as a retryable network error', async () => {
    const server = await startServer((_req, res) => {
      res.end();
    });
    const url = `${server.url}/`;
    await server.unavailable();
    const fetch = guarded();
    const error = await failure(fetch(url));
    expect(error.code).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`request to 127.0.0.1:${server.port} failed (ECONNREFUSED)`);
    await fetch.close();
  });
});
