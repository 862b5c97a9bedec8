// Raw HTTP to the API server with the KubeConfig's credentials, for what @kubernetes/client-node 2.0.1
// cannot do: set Accept (metadata-only lists and watches), stream watches without its fixed 30-second
// inactivity abort, bound every request with a deadline, and reuse one connection pool (its
// applySecurityAuthentication builds a new undici Agent — a new TLS connection — for every request).
//
// Credentials are read from the KubeConfig on every request (exec plugins, OIDC and projected service
// account tokens rotate); the connection pool is rebuilt only when the TLS material or proxy changes.
import { STATUS_CODES } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { Cluster, DispatcherOptions, KubeConfig } from '@kubernetes/client-node';
// From its own module, not the package index: the index loads every generated API (see kube-config.ts).
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { Agent, fetch, ProxyAgent, request as undiciRequest, type Dispatcher, type Response } from 'undici';
import { systemClock, type Clock } from '../clock.ts';
import { CoffreError } from '../errors.ts';
import { defaults } from '../defaults.ts';

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  accept?: string;
  contentType?: string;
  body?: string;
  signal?: AbortSignal;
  /** json(): aborts the whole exchange (headers and body) after this long. 0: no deadline. */
  timeoutMs?: number;
}

export interface KubeHttp {
  /** Sends a request; resolves with the response whatever its status. The caller reads or cancels the body. */
  send(path: string, request?: KubeRequest): Promise<Response>;
  /** Sends a request and parses the JSON answer; a non-2xx status throws KubeApiError. */
  json<T>(path: string, request?: KubeRequest): Promise<T>;
  /** Closes the connection pool (in-flight requests finish first). */
  close(): Promise<void>;
}

export const KUBE_API_ERROR = 'kube_api';
export const KUBE_UNREACHABLE = 'kube_unreachable';
export const KUBE_TIMEOUT = 'kube_timeout';

/** The Status object's `details`: which object a refusal is about (a 404 may be about its namespace). */
export interface KubeStatusDetails {
  kind?: string;
  name?: string;
  /**
   * The type of each cause (metav1.StatusCause, serialised as `reason`): e.g. `NamespaceTerminating` when
   * a namespace being deleted refuses new objects.
   */
  causeTypes?: string[];
}

/** An API server refusal, with the HTTP status and the Status reason (Conflict, NotFound, Expired...). */
export class KubeApiError extends CoffreError {
  readonly status: number;
  readonly reason: string;
  readonly details: KubeStatusDetails;

  constructor(
    status: number,
    reason: string,
    message: string,
    retryAfterMs?: number,
    details: KubeStatusDetails = {},
  ) {
    super(KUBE_API_ERROR, `API server answered ${status} ${reason}: ${message}`, {
      retryable: status === 409 || status === 429 || status >= 500,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

export function isKubeApiError(error: unknown, status?: number): error is KubeApiError {
  return error instanceof KubeApiError && (status === undefined || error.status === status);
}

/** Reads a non-2xx response into a KubeApiError (the Status object's reason and message, bounded). */
export async function kubeApiErrorFrom(response: Response): Promise<KubeApiError> {
  const text = await response.text().catch(() => '');
  return kubeApiErrorOf(response.status, response.statusText, text, response.headers.get('retry-after'));
}

function kubeApiErrorOf(
  httpStatus: number,
  statusText: string,
  text: string,
  retryAfterHeader: string | null | undefined,
): KubeApiError {
  let reason = statusText;
  let message = '';
  let details: KubeStatusDetails = {};
  try {
    const status = JSON.parse(text) as {
      reason?: string;
      message?: string;
      details?: { kind?: unknown; name?: unknown; causes?: unknown };
    };
    reason = status.reason ?? reason;
    message = status.message ?? '';
    const causeTypes = Array.isArray(status.details?.causes)
      ? (status.details.causes as { reason?: unknown }[])
          .map((cause) => cause.reason)
          .filter((type): type is string => typeof type === 'string')
      : [];
    details = {
      ...(typeof status.details?.kind === 'string' ? { kind: status.details.kind } : {}),
      ...(typeof status.details?.name === 'string' ? { name: status.details.name } : {}),
      ...(causeTypes.length > 0 ? { causeTypes } : {}),
    };
  } catch {
    // Not a Status object: keep the HTTP status text only.
  }
  const retryAfter = Number(retryAfterHeader ?? Number.NaN);
  return new KubeApiError(
    httpStatus,
    reason,
    message.slice(0, 500),
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    details,
  );
}

export interface KubeHttpOptions {
  clock: Clock;
  /** The default deadline of json() requests. */
  requestTimeoutMs: number;
  /** Sent as User-Agent; the API server also uses it as the default field manager. */
  userAgent: string;
}

export function createKubeHttp(kc: KubeConfig, input: Partial<KubeHttpOptions> = {}): KubeHttp {
  const options: KubeHttpOptions = {
    clock: input.clock ?? systemClock,
    requestTimeoutMs: input.requestTimeoutMs ?? defaults.kube.requestTimeoutMs,
    userAgent: input.userAgent ?? defaults.kube.userAgent,
  };
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new CoffreError('kube_config', 'the kubeconfig has no current cluster', { retryable: false });
  }
  const server = cluster.server.replace(/\/+$/, '');
  const pool = new DispatcherPool(kc, cluster);

  const prepare = async (path: string, request: KubeRequest) => {
    const url = new URL(server + path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const { headers, dispatcher } = await pool.prepare(url);
    headers.accept = request.accept ?? 'application/json';
    headers['user-agent'] ??= options.userAgent;
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    return { url, headers, dispatcher };
  };
  const unreachable = (error: unknown) =>
    new CoffreError(KUBE_UNREACHABLE, `cannot reach the API server: ${describe(error)}`, {
      retryable: true,
      cause: error,
    });

  const send = async (path: string, request: KubeRequest = {}): Promise<Response> => {
    const { url, headers, dispatcher } = await prepare(path, request);
    try {
      return await fetch(url, {
        method: request.method ?? 'GET',
        headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
    } catch (error) {
      if (request.signal?.aborted === true) throw request.signal.reason;
      throw unreachable(error);
    }
  };

  /**
   * A whole exchange through undici's request API: no WHATWG Request, Response and streams, which cost
   * about a third of the operator's CPU in a burst when json() went through fetch (docs/performance.md).
   */
  const exchange = async <T>(path: string, request: KubeRequest, signal: AbortSignal): Promise<T> => {
    const { url, headers, dispatcher } = await prepare(path, request);
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(url, {
        method: request.method ?? 'GET',
        headers,
        signal,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(error);
    }
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      const text = await response.body.text().catch(() => '');
      const retryAfter = response.headers['retry-after'];
      throw kubeApiErrorOf(
        status,
        STATUS_CODES[status] ?? '',
        text,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      );
    }
    try {
      return (await response.body.json()) as T;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error;
    }
  };

  return {
    send,
    async json<T>(path: string, request: KubeRequest = {}): Promise<T> {
      const timeoutMs = request.timeoutMs ?? options.requestTimeoutMs;
      const deadline = new AbortController();
      const timer =
        timeoutMs > 0
          ? options.clock.setTimer(timeoutMs, () => {
              deadline.abort(
                new CoffreError(KUBE_TIMEOUT, `API request timed out after ${timeoutMs} ms`, {
                  retryable: true,
                }),
              );
            })
          : undefined;
      const signal =
        request.signal === undefined ? deadline.signal : AbortSignal.any([request.signal, deadline.signal]);
      try {
        return await exchange<T>(path, request, signal);
      } catch (error) {
        if (deadline.signal.aborted) throw deadline.signal.reason;
        throw error;
      } finally {
        timer?.cancel();
      }
    },
    close: () => pool.close(),
  };
}

/**
 * undici cuts a response body that stays silent for 5 minutes by default: a quiet watch (no events, no
 * bookmarks) would fail every 5 minutes. Watches detect dead connections themselves (inactivity timer)
 * and json() requests carry their own deadline.
 */
const noBodyTimeout = { bodyTimeout: 0 };

/**
 * HTTP/1.1 only (undici 8 negotiates HTTP/2 by default). Over HTTP/2 every request and watch shares one
 * connection, and a request that times out resets only its stream: a connection that stops answering
 * (half-open, or a stuck session) then fails every later request too, for as long as the process lives
 * — the chaos run's stall after a kube-apiserver kill (docs/reliability.md). client-go guards its
 * HTTP/2 connections with PING health checks, which undici does not have. Over HTTP/1.1 a timed-out
 * request destroys its own socket and the next one opens a fresh connection; see
 * docs/decisions/0006-http1-to-the-api-server.md.
 */
const http1 = { allowH2: false };

/** One undici dispatcher per distinct TLS/proxy configuration, plus fresh credentials per request. */
class DispatcherPool {
  readonly #kc: KubeConfig;
  readonly #cluster: Cluster;
  #options: unknown;
  #dispatcher: Dispatcher | undefined;
  #closed = false;

  constructor(kc: KubeConfig, cluster: Cluster) {
    this.#kc = kc;
    this.#cluster = cluster;
  }

  async prepare(url: URL): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }> {
    const https: RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(https);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(https.headers ?? {})) {
      if (value !== undefined)
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : `${value}`;
    }
    if (typeof https.auth === 'string' && https.auth !== '') {
      headers.authorization = `Basic ${Buffer.from(https.auth).toString('base64')}`;
    }
    const dispatcherOptions = this.#kc.createDispatcherOptions(this.#cluster, {
      ...(https.ca === undefined ? {} : { ca: https.ca }),
      ...(https.cert === undefined ? {} : { cert: https.cert }),
      ...(https.key === undefined ? {} : { key: https.key }),
      ...(https.pfx === undefined ? {} : { pfx: https.pfx }),
      ...(https.passphrase === undefined ? {} : { passphrase: https.passphrase }),
      ...(https.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: https.rejectUnauthorized }),
      ...(https.servername === undefined ? {} : { servername: https.servername }),
    });
    if (dispatcherOptions.type === 'socks') {
      // client-node builds SOCKS connectors with a helper it does not export: use its per-request path.
      const context = new RequestContext(url.toString(), HttpMethod.GET);
      await this.#kc.applySecurityAuthentication(context);
      return { headers, dispatcher: context.getDispatcher() };
    }
    return { headers, dispatcher: this.#dispatcherFor(dispatcherOptions) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await dispatcher?.close();
  }

  #dispatcherFor(options: Exclude<DispatcherOptions, { type: 'socks' }>): Dispatcher | undefined {
    if (options.type === 'none') return undefined;
    // Compared, not hashed: the options carry the client certificate, key and CA as fresh Buffers on every
    // request, and JSON of a Buffer is an array of its bytes (a sha256 of that cost ~1 ms per request).
    if (this.#dispatcher !== undefined && sameOptions(options, this.#options)) return this.#dispatcher;
    if (this.#closed) throw new CoffreError('kube_closed', 'the API client is closed', { retryable: false });
    const previous = this.#dispatcher;
    this.#dispatcher =
      options.type === 'proxy'
        ? new ProxyAgent({
            ...noBodyTimeout,
            ...http1,
            uri: options.uri,
            requestTls: options.requestTls,
            connect: options.connect,
          })
        : new Agent({ ...noBodyTimeout, ...http1, connect: options.connect });
    this.#options = options;
    // Requests still running on the old pool (a watch) finish there; it closes after them.
    void previous?.close().catch(() => undefined);
    return this.#dispatcher;
  }
}

/** Deep equality of dispatcher options: Buffers by content, functions by identity. */
export function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return (
      a instanceof Uint8Array &&
      b instanceof Uint8Array &&
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
    );
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameOptions(x, b[i]))
    );
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aKeys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bKeys = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every((k) => sameOptions((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
