// Raw HTTP to the API server with the KubeConfig's credentials, for what the typed clients cannot do:
// streaming watches without an inactivity cut-off, and metadata-only lists and watches (Accept header).
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch, type Response } from 'undici';
import { CoffreError } from '../errors.ts';

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  accept?: string;
  contentType?: string;
  body?: string;
  signal?: AbortSignal;
}

export interface KubeHttp {
  /** Sends a request; resolves with the response whatever its status. */
  send(path: string, request?: KubeRequest): Promise<Response>;
  /** Sends a request and parses a JSON answer; a non-2xx status throws KubeApiError. */
  json<T>(path: string, request?: KubeRequest): Promise<T>;
}

/** An API server refusal, with the HTTP status and the Status reason (e.g. Conflict, NotFound, Expired). */
export class KubeApiError extends CoffreError {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super('kube_api', `API server answered ${status} ${reason}: ${message}`, {
      retryable: status === 429 || status >= 500 || status === 409,
    });
    this.status = status;
    this.reason = reason;
  }
}

export async function kubeApiErrorFrom(response: Response): Promise<KubeApiError> {
  const text = await response.text().catch(() => '');
  let reason = response.statusText;
  let message = '';
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? reason;
    message = status.message ?? '';
  } catch {
    // Not a Status object: keep the HTTP status text only.
  }
  return new KubeApiError(response.status, reason, message.slice(0, 500));
}

export function createKubeHttp(kc: KubeConfig): KubeHttp {
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new CoffreError('kube_config', 'the kubeconfig has no current cluster', { retryable: false });
  const server = cluster.server.replace(/\/+$/, '');

  const send = async (path: string, request: KubeRequest = {}): Promise<Response> => {
    const url = new URL(server + path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    const headers = context.getHeaders() as unknown as Record<string, string>;
    headers.Accept = request.accept ?? 'application/json';
    if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
    const dispatcher = context.getDispatcher();
    return fetch(url, {
      method: request.method ?? 'GET',
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
  };

  return {
    send,
    async json<T>(path: string, request?: KubeRequest): Promise<T> {
      const response = await send(path, request);
      if (!response.ok) throw await kubeApiErrorFrom(response);
      return (await response.json()) as T;
    },
  };
}
