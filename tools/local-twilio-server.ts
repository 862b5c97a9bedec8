// A Twilio-shaped OAuth token endpoint on 127.0.0.1 (HTTPS): `POST /v2/token`, form encoded only, the
// client credentials grant of an OAuth app, answering as Twilio documents it —
// `{access_token, id_token: null, token_type: "Bearer", expires_in: 3600, refresh_token: null}` — and
// failing with Twilio's REST error body (`{code, message, more_info, status}`): 401 code 20003 for bad
// credentials, 429 code 20429 with Retry-After when rate limited.
//
//   const twilio = await startLocalTwilioServer({ clientId: 'OQ...', clientSecret: 's' });
//   twilio.baseUrl (for --twilio-oauth-base-url), twilio.caPem, twilio.tokenRequests(), twilio.failNext(...)
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, startLocalHttpsServer, type LocalHttpsServer } from './local-https-server.ts';
import type { CertificateAuthority } from './tls.ts';

export const TWILIO_TOKEN_PATH = '/v2/token';

export interface LocalTwilioServerOptions {
  clientId: string;
  clientSecret: string;
  /** Seconds; Twilio's tokens last 3,600. */
  tokenLifetimeSeconds?: number;
  ca?: CertificateAuthority;
}

export interface TwilioFailure {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface LocalTwilioServer {
  /** `https://127.0.0.1:{port}`: what `--twilio-oauth-base-url` takes. */
  readonly baseUrl: string;
  readonly tokenEndpoint: string;
  readonly caPem: string;
  readonly https: LocalHttpsServer;
  isActive(accessToken: string): boolean;
  tokenRequests(): number;
  failNext(failure: TwilioFailure): void;
  stop(): Promise<void>;
}

/** Twilio's REST error body. */
export function twilioError(status: number, code: number, message: string): TwilioFailure {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${String(code)}`, status },
  };
}

export async function startLocalTwilioServer(options: LocalTwilioServerOptions): Promise<LocalTwilioServer> {
  const tokens = new Set<string>();
  const failures: TwilioFailure[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== TWILIO_TOKEN_PATH) {
      const failure = twilioError(404, 20404, 'The requested resource was not found');
      sendJson(res, failure.status, failure.body);
      return;
    }
    const failure =
      failures.shift() ??
      (() => {
        if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
          return twilioError(400, 20001, 'Invalid content type');
        return undefined;
      })();
    if (failure !== undefined) {
      await readBody(req);
      sendJson(res, failure.status, failure.body, failure.headers ?? {});
      return;
    }
    const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
    if (fields.client_id !== options.clientId || fields.client_secret !== options.clientSecret) {
      const refused = twilioError(401, 20003, 'Authentication Error - invalid username');
      sendJson(res, refused.status, refused.body);
      return;
    }
    if (fields.grant_type !== 'client_credentials') {
      const refused = twilioError(400, 20001, 'Invalid grant_type');
      sendJson(res, refused.status, refused.body);
      return;
    }
    const accessToken = `eyJ${randomBytes(24).toString('base64url')}`;
    tokens.add(accessToken);
    sendJson(res, 200, {
      access_token: accessToken,
      id_token: null,
      token_type: 'Bearer',
      expires_in: options.tokenLifetimeSeconds ?? 3_600,
      refresh_token: null,
    });
  }

  const https = await startLocalHttpsServer({ handler: handle, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    baseUrl: https.url,
    tokenEndpoint: `${https.url}${TWILIO_TOKEN_PATH}`,
    caPem: https.caPem,
    https,
    isActive: (accessToken) => tokens.has(accessToken),
    tokenRequests: () => https.requests(TWILIO_TOKEN_PATH),
    failNext(failure) {
      failures.push(failure);
    },
    stop: () => https.stop(),
  };
}
