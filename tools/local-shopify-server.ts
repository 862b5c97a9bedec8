// A Shopify-shaped Admin API token endpoint on 127.0.0.1 (HTTPS): `POST /admin/oauth/access_token` with
// the client credentials grant (JSON or form body), answering `{access_token, scope, expires_in}` with no
// token_type, as Shopify does; and the refresh_token grant of expiring offline tokens, answering
// `{access_token, expires_in, refresh_token, refresh_token_expires_in, scope}` with a new refresh token.
// As Shopify does since 2026-08, a used refresh token stays valid until its replacement is used (a lost
// answer can be retried); then it is retired.
//
//   const shop = await startLocalShopifyServer({ clientId: 'c', clientSecret: 's' });
//   const refreshToken = shop.issueRefreshToken();   // as the OAuth grant with expiring=1 would
//   shop.tokenEndpoint, shop.caPem, shop.tokenRequests(), shop.isActive(refreshToken)
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFields, sendJson, startLocalHttpsServer, type LocalHttpsServer } from './local-https-server.ts';
import type { CertificateAuthority } from './tls.ts';

export const SHOPIFY_TOKEN_PATH = '/admin/oauth/access_token';

export interface LocalShopifyServerOptions {
  clientId: string;
  clientSecret: string;
  /** Seconds; Shopify's client-credentials tokens last 24 hours. */
  tokenLifetimeSeconds?: number;
  /** Seconds; expiring offline tokens last 60 minutes. */
  offlineTokenLifetimeSeconds?: number;
  /** Comma separated, as Shopify sends it: the scopes configured on the app's version. */
  scope?: string;
  ca?: CertificateAuthority;
}

export interface LocalShopifyServer {
  readonly tokenEndpoint: string;
  readonly caPem: string;
  readonly https: LocalHttpsServer;
  /** A refresh token of an expiring offline token, as the app's OAuth grant would have returned it. */
  issueRefreshToken(): string;
  /** Whether the server still honours this refresh token. */
  isActive(refreshToken: string): boolean;
  /** Refresh requests refused with invalid_grant. */
  invalidGrants(): number;
  tokenRequests(): number;
  /** The request bodies received, newest last. */
  bodies(): Record<string, string>[];
  stop(): Promise<void>;
}

export async function startLocalShopifyServer(
  options: LocalShopifyServerOptions,
): Promise<LocalShopifyServer> {
  /** Live refresh tokens → the one they replaced (retired when they are first used). */
  const refreshTokens = new Map<string, string | undefined>();
  const received: Record<string, string>[] = [];
  let invalidGrants = 0;
  const issue = () => `shprt_${randomBytes(16).toString('hex')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== SHOPIFY_TOKEN_PATH) {
      sendJson(res, 404, { errors: 'Not Found' });
      return;
    }
    const fields = await readFields(req);
    received.push(fields);
    if (fields.client_id !== options.clientId || fields.client_secret !== options.clientSecret) {
      sendJson(res, 400, { error: 'invalid_client', error_description: 'Client credentials are invalid' });
      return;
    }
    const scope = options.scope ?? 'read_products,write_orders';
    if (fields.grant_type === 'refresh_token') {
      const presented = fields.refresh_token ?? '';
      if (!refreshTokens.has(presented)) {
        invalidGrants += 1;
        sendJson(res, 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid' });
        return;
      }
      // Using this token retires the one it replaced; it stays valid itself until its replacement is used.
      const predecessor = refreshTokens.get(presented);
      if (predecessor !== undefined) refreshTokens.delete(predecessor);
      const rotated = issue();
      refreshTokens.set(rotated, presented);
      sendJson(res, 200, {
        access_token: `shpat_${randomBytes(16).toString('hex')}`,
        expires_in: options.offlineTokenLifetimeSeconds ?? 3_600,
        refresh_token: rotated,
        refresh_token_expires_in: 7_776_000,
        scope,
      });
      return;
    }
    if (fields.grant_type !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    sendJson(res, 200, {
      access_token: `shpat_${randomBytes(16).toString('hex')}`,
      scope,
      expires_in: options.tokenLifetimeSeconds ?? 86_399,
    });
  }

  const https = await startLocalHttpsServer({ handler: handle, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    tokenEndpoint: `${https.url}${SHOPIFY_TOKEN_PATH}`,
    caPem: https.caPem,
    https,
    issueRefreshToken() {
      const token = issue();
      refreshTokens.set(token, undefined);
      return token;
    },
    isActive: (refreshToken) => refreshTokens.has(refreshToken),
    invalidGrants: () => invalidGrants,
    tokenRequests: () => https.requests(SHOPIFY_TOKEN_PATH),
    bodies: () => [...received],
    stop: () => https.stop(),
  };
}
