// A Shopify-shaped Admin API token endpoint on 127.0.0.1 (HTTPS): `POST /admin/oauth/access_token`
// with the client credentials grant (JSON or form body), answering `{access_token, scope, expires_in}`
// with no token_type, as Shopify does.
//
//   const shop = await startLocalShopifyServer({ clientId: 'c', clientSecret: 's' });
//   shop.tokenEndpoint, shop.caPem, shop.tokenRequests()
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
  scope?: string;
  ca?: CertificateAuthority;
}

export interface LocalShopifyServer {
  readonly tokenEndpoint: string;
  readonly caPem: string;
  readonly https: LocalHttpsServer;
  tokenRequests(): number;
  stop(): Promise<void>;
}

export async function startLocalShopifyServer(
  options: LocalShopifyServerOptions,
): Promise<LocalShopifyServer> {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== SHOPIFY_TOKEN_PATH) {
      sendJson(res, 404, { errors: 'Not Found' });
      return;
    }
    const fields = await readFields(req);
    if (fields.client_id !== options.clientId || fields.client_secret !== options.clientSecret) {
      sendJson(res, 400, { error: 'invalid_client', error_description: 'Client credentials are invalid' });
      return;
    }
    if (fields.grant_type !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    sendJson(res, 200, {
      access_token: `shpat_${randomBytes(16).toString('hex')}`,
      scope: options.scope ?? 'read_products,write_orders',
      expires_in: options.tokenLifetimeSeconds ?? 86_399,
    });
  }

  const https = await startLocalHttpsServer({ handler: handle, ...(options.ca ? { ca: options.ca } : {}) });
  return {
    tokenEndpoint: `${https.url}${SHOPIFY_TOKEN_PATH}`,
    caPem: https.caPem,
    https,
    tokenRequests: () => https.requests(SHOPIFY_TOKEN_PATH),
    stop: () => https.stop(),
  };
}
