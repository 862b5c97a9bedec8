// The one way the engine talks HTTP: a fetch-compatible function (openid-client's `customFetch`, and
// the Slack/Shopify adapters) on a dedicated undici Agent that
// - refuses non-https URLs unless insecure mode is on;
// - refuses loopback, private, link-local, metadata... addresses three times: the URL's IP literal
//   before anything else, the addresses DNS returns before a socket is opened (refused ones are
//   dropped; none left is an error), and the address the socket actually connected to;
// - never follows redirects (a 3xx is an error, so a server cannot bounce us to 169.254.169.254);
// - bounds the whole exchange in time (connect, headers and body) and the body in size, counting the
//   bytes as they stream in, whatever Content-Length claims.
// It returns a fully buffered standard Response (made from undici's request API, which costs less CPU
// than its fetch). Errors are OAuthErrors that name the host only.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createSecureContext, getCACertificates } from 'node:tls';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Agent, buildConnector, request as undiciRequest } from 'undici';
import { systemClock, type Clock } from '../clock.ts';
import {
  createAddressPolicy,
  describeRefusal,
  InvalidCidrError,
  NOT_AN_ADDRESS,
  stripDecorations,
  isIpLiteral,
  type AddressPolicy,
} from './address-policy.ts';
import { OAuthError } from './errors.ts';

export const GUARDED_FETCH_DEFAULTS = {
  allowHttp: false,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 15_000,
  maxResponseBytes: 1024 * 1024,
  userAgent: 'coffre',
} as const;

export interface GuardedFetchOptions {
  /** Address ranges opened despite the SSRF guard, e.g. `127.0.0.1/32` for a local server. */
  allowedCIDRs?: readonly string[];
  /** Insecure mode: allow http:// URLs. Off by default; for local development only. */
  allowHttp?: boolean;
  connectTimeoutMs?: number;
  /** Deadline for the whole exchange: connect, request, response headers and body. */
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Extra PEM CA certificates trusted in addition to the default roots (a corporate or test CA). */
  ca?: string;
  userAgent?: string;
  clock?: Clock;
  /** DNS resolution; `dns.lookup` unless injected (tests, custom resolvers). */
  lookup?: LookupFunction;
}

export type GuardedFetchBody = string | URLSearchParams | Uint8Array | ArrayBuffer | ReadableStream | null;

export interface GuardedFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: GuardedFetchBody | undefined;
  signal?: AbortSignal | undefined;
  /** Ignored: redirects are never followed. */
  redirect?: string;
  duplex?: 'half';
}

export interface GuardedFetch {
  (url: string | URL, init?: GuardedFetchInit): Promise<Response>;
  /** Closes the agent's connections. */
  close(): Promise<void>;
  /** Whether insecure (http) mode is on, for libraries that must be told separately. */
  readonly allowHttp: boolean;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function createGuardedFetch(options: GuardedFetchOptions = {}): GuardedFetch {
  const settings = { ...GUARDED_FETCH_DEFAULTS, ...withoutUndefined(options) };
  const clock = options.clock ?? systemClock;
  let policy: AddressPolicy;
  try {
    policy = createAddressPolicy(options.allowedCIDRs ?? []);
  } catch (error) {
    if (error instanceof InvalidCidrError) throw new OAuthError('invalid_configuration', error.message);
    throw error;
  }
  const resolve: LookupFunction = options.lookup ?? dnsLookup;

  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      // Only allowed addresses are ever connected to; refused ones are dropped (a host may publish both,
      // e.g. localhost as 127.0.0.1 and ::1 with only 127.0.0.1/32 allowed).
      const resolved: LookupAddress[] = Array.isArray(addresses) ? addresses : [];
      const list = resolved.filter(({ address }) => policy.refusal(address) === undefined);
      const first = list[0];
      const refused = resolved[0] === undefined ? undefined : policy.refusal(resolved[0].address);
      if (first === undefined && refused !== undefined) {
        callback(refusedError(hostname, `resolves to ${describeRefusal(refused)}`), '', 0);
      } else if (first === undefined) {
        callback(new OAuthError('network', `${hostname} does not resolve`), '', 0);
      } else if (lookupOptions.all === true) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, list);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };

  const connect = buildConnector({
    timeout: settings.connectTimeoutMs,
    allowH2: false,
    lookup: guardedLookup,
    // One TLS context for every connection: given as a `ca` list, Node would parse the system roots and
    // ours again for each new connection (the largest CPU cost of a burst, found by the bench profile).
    ...(options.ca === undefined
      ? {}
      : { secureContext: createSecureContext({ ca: [...getCACertificates('default'), options.ca] }) }),
  });

  const agent = new Agent({
    headersTimeout: settings.totalTimeoutMs,
    bodyTimeout: settings.totalTimeoutMs,
    maxResponseSize: settings.maxResponseBytes,
    connect(connectOptions, callback) {
      const literal = stripDecorations(connectOptions.hostname);
      if (isIpLiteral(literal)) {
        const refused = policy.refusal(literal);
        if (refused !== undefined) {
          callback(refusedError(literal, `is ${describeRefusal(refused)}`), null);
          return;
        }
      }
      connect(connectOptions, (...args) => {
        const [error, socket] = args;
        if (error !== null) {
          callback(error, null);
          return;
        }
        const remote = socket.remoteAddress;
        const refused = remote === undefined ? NOT_AN_ADDRESS : policy.refusal(remote);
        if (refused !== undefined) {
          socket.destroy();
          callback(refusedError(connectOptions.hostname, `connected to ${describeRefusal(refused)}`), null);
          return;
        }
        callback(null, socket);
      });
    },
  });

  async function guardedFetch(input: string | URL, init: GuardedFetchInit = {}): Promise<Response> {
    const url = parseUrl(input);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && settings.allowHttp)) {
      throw new OAuthError(
        'insecure_url',
        `refused ${url.protocol.replace(/:$/, '')} URL for ${url.host}: only https is allowed`,
      );
    }
    const host = url.host;
    if (isIpLiteral(url.hostname)) {
      const refused = policy.refusal(stripDecorations(url.hostname));
      if (refused !== undefined) throw refusedError(host, `is ${describeRefusal(refused)}`);
    }

    const deadline = new AbortController();
    const timer = clock.setTimer(settings.totalTimeoutMs, () => {
      deadline.abort(
        new OAuthError('timeout', `${host} did not answer within ${settings.totalTimeoutMs} ms`),
      );
    });
    const signal =
      init.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, init.signal]);
    const headers = new Headers(init.headers);
    headers.set('user-agent', settings.userAgent);
    const body = requestBody(init.body, headers);
    // What fetch would send by default: callers (openid-client) name what they accept.
    if (!headers.has('accept')) headers.set('accept', '*/*');

    try {
      // undici's request API, not its fetch: the same Agent and guards, without the WHATWG request,
      // stream and response machinery that cost ~1 ms of CPU per token request (docs/performance.md).
      const response = await undiciRequest(url, {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers.entries()),
        ...(body === undefined ? {} : { body }),
        signal,
        dispatcher: agent,
      });
      const status = response.statusCode;
      if (status >= 300 && status < 400) {
        discard(response.body);
        throw new OAuthError(
          'redirect_refused',
          `${host} answered with a redirect (HTTP ${status}); redirects are never followed`,
          { status },
        );
      }
      const declared = Number(response.headers['content-length'] ?? '0');
      if (Number.isFinite(declared) && declared > settings.maxResponseBytes) {
        discard(response.body);
        throw tooLarge(host, settings.maxResponseBytes, status);
      }
      const bytes = await readCapped(response.body, settings.maxResponseBytes, host, status);
      const copied = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (Array.isArray(value)) for (const one of value) copied.append(name, one);
        else if (value !== undefined) copied.append(name, value);
      }
      return new Response(NULL_BODY_STATUSES.has(status) ? null : bytes, {
        status,
        statusText: response.statusText,
        headers: copied,
      });
    } catch (error) {
      throw toFetchError(error, host, signal);
    } finally {
      timer.cancel();
    }
  }

  return Object.assign(guardedFetch, {
    close: () => agent.close(),
    allowHttp: settings.allowHttp,
  });
}

function parseUrl(input: string | URL): URL {
  const url = URL.parse(String(input));
  if (url === null) throw new OAuthError('invalid_configuration', 'the endpoint is not a valid URL');
  return url;
}

function refusedError(host: string, why: string): OAuthError {
  return new OAuthError('endpoint_refused', `refused ${host}: it ${why}`);
}

function tooLarge(host: string, limit: number, status: number): OAuthError {
  return new OAuthError('response_too_large', `${host} sent a response larger than ${limit} bytes`, {
    status,
  });
}

/** The request body as undici's request API takes it, with the content type fetch would have given it. */
function requestBody(
  body: GuardedFetchBody | undefined,
  headers: Headers,
): string | Uint8Array | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    return body;
  }
  if (body instanceof URLSearchParams) {
    if (!headers.has('content-type'))
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    return body.toString();
  }
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof Uint8Array) return body;
  return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
}

/**
 * Drops a response body not read to its end. undici reports that as an error event (the request was
 * aborted), which nobody listens to here: listen, so that it is not an unhandled error.
 */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readCapped(
  body: AsyncIterable<Uint8Array> & Parameters<typeof discard>[0],
  limit: number,
  host: string,
  status: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) {
      discard(body);
      throw tooLarge(host, limit, status);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** An OAuthError for whatever went wrong, keeping only causes that carry no response data. */
function toFetchError(error: unknown, host: string, signal: AbortSignal): OAuthError {
  const coded = findOAuthError(error) ?? (signal.aborted ? findOAuthError(signal.reason) : undefined);
  if (coded !== undefined) return coded;
  if (signal.aborted) return new OAuthError('timeout', `${host} did not answer in time`);
  const causeCode = errorCode(error);
  if (causeCode === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new OAuthError('response_too_large', `${host} sent a response larger than the limit`);
  }
  if (
    causeCode === 'UND_ERR_CONNECT_TIMEOUT' ||
    causeCode === 'UND_ERR_HEADERS_TIMEOUT' ||
    causeCode === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new OAuthError('timeout', `${host} did not answer in time (${causeCode})`);
  }
  return new OAuthError('network', `request to ${host} failed${causeCode ? ` (${causeCode})` : ''}`, {
    cause: networkCause(error),
  });
}

function findOAuthError(error: unknown): OAuthError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof OAuthError) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** The innermost system or undici error code (ECONNREFUSED, UND_ERR_SOCKET...). */
function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) found = code;
    current = current.cause;
  }
  return found;
}

/** A fresh Error with the innermost cause's message and code; never the original (it may hold a request). */
function networkCause(error: unknown): Error | undefined {
  let innermost: unknown = error;
  for (let depth = 0; innermost instanceof Error && innermost.cause instanceof Error && depth < 8; depth++) {
    innermost = innermost.cause;
  }
  if (!(innermost instanceof Error)) return undefined;
  const cause = new Error(innermost.message.slice(0, 200));
  const code = errorCode(innermost);
  if (code !== undefined) Object.assign(cause, { code });
  return cause;
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}
