// A Slack-shaped token endpoint on 127.0.0.1 (HTTPS): `POST /api/oauth.v2.access` with the
// refresh_token grant and token rotation, answering as Slack does — HTTP 200 with `{ok: true, ...,
// token_type: "bot"}` or `{ok: false, error}` — so the Slack adapter is tested against the real shape.
//
//   const slack = await startLocalSlackServer({ clientId: 'A1', clientSecret: 's' });
//   const refreshToken = slack.issueRefreshToken();
//   slack.tokenEndpoint, slack.caPem, slack.tokenRequests(), slack.failNext('ratelimited', { status: 429 })
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFields, sendJson, startLocalHttpsServer, type LocalHttpsServer } from './local-https-server.ts';
import type { CertificateAuthority } from './tls.ts';

export const SLACK_TOKEN_PATH = '/api/oauth.v2.access';

export interface LocalSlackServerOptions {
  clientId: string;
  clientSecret: string;
  /** Access token lifetime in seconds; Slack uses 12 hours. */
  tokenLifetimeSeconds?: number;
  /** Comma-separated, as Slack sends it. */
  scope?: string;
  ca?: CertificateAuthority;
}

export interface SlackFailure {
  error: string;
  /** Default 200, as Slack answers API errors. */
  status?: number;
  retryAfterSeconds?: number;
}

export interface LocalSlackServer {
  readonly tokenEndpoint: string;
  readonly caPem: string;
  readonly https: LocalHttpsServer;
  /** A refresh token as an app installation would have stored it. */
  issueRefreshToken(): string;
  /** Whether the server still accepts this refresh token. */
  isActive(refreshToken: string): boolean;
  tokenRequests(): number;
  /** Answers the next token request with this failure. */
  failNext(error: string, options?: Omit<SlackFailure, 'error'>): void;
  stop(): Promise<void>;
}

export async function startLocalSlackServer(options: LocalSlackServerOptions): Promise<LocalSlackServer> {
  const refreshTokens = new Set<string>();
  const failures: SlackFailure[] = [];
  const issue = () => `xoxe-1-${randomBytes(24).toString('base64url')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== SLACK_TOKEN_PATH) {
      sendJson(res, 404, { ok: false, error: 'unknown_method' });
      return;
    }
    const fields = await readFields(req);
    const failure = failures.shift();
    if (failure !== undefined) {
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      sendJson(res, failure.status ?? 200, { ok: false, error: failure.error }, headers);
      return;
    }
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [clientId, clientSecret] = basic
      ? Buffer.from(basic, 'base64').toString('utf8').split(':', 2)
      : [fields.client_id, fields.client_secret];
    const refused = (error: string) => {
      sendJson(res, 200, { ok: false, error });
    };
    if (clientId !== options.clientId) {
      refused('invalid_client_id');
      return;
    }
    if (clientSecret !== options.clientSecret) {
      refused('bad_client_secret');
      return;
    }
    if (fields.grant_type !== 'refresh_token') {
      refused('invalid_grant_type');
      return;
    }
    if (!refreshTokens.delete(fields.refresh_token ?? '')) {
      refused('invalid_refresh_token');
      return;
    }
    const rotated = issue();
    refreshTokens.add(rotated);
    sendJson(res, 200, {
      ok: true,
      app_id: 'A0LOCAL',
      access_token: `xoxe.xoxb-${randomBytes(24).toString('base64url')}`,
      token_type: 'bot',
      scope: options.scope ?? 'chat:write,channels:read',
      bot_user_id: 'U0LOCAL',
      team: { id: 'T0LOCAL', name: 'Local' },
      enterprise: null,
      is_enterprise_install: false,
      expires_in: options.tokenLifetimeSeconds ?? 43_200,
      refresh_token: rotated,
    });
  }

  const https = await startLocalHttpsServer({ handler: handle, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    tokenEndpoint: `${https.url}${SLACK_TOKEN_PATH}`,
    caPem: https.caPem,
    https,
    issueRefreshToken() {
      const token = issue();
      refreshTokens.add(token);
      return token;
    },
    isActive: (refreshToken) => refreshTokens.has(refreshToken),
    tokenRequests: () => https.requests(SLACK_TOKEN_PATH),
    failNext(error, failure = {}) {
      failures.push({ error, ...failure });
    },
    stop: () => https.stop(),
  };
}
