// A real OAuth 2.0 / OpenID Connect server on 127.0.0.1 for tests and the local demo: oidc-provider 9
// over HTTPS (a per-run CA from tools/tls.ts), with
// - the client_credentials grant, and Auth0's `audience` parameter (or RFC 8707 `resource`) mapped to
//   resource servers that issue short-lived JWT access tokens;
// - the refresh_token grant with rotation (every use issues a new refresh token; reusing an old one
//   revokes the grant), and `issueRefreshToken()` to mint the first one without a browser;
// - RFC 7009 revocation;
// - clients authenticating with client_secret_post, client_secret_basic or private_key_jwt;
// - a count of token requests per grant type, to prove sharing ("exactly one request");
// - unavailable()/available() to take the server off its port and bring it back on the same one;
// - tweaks switchable at run time: omit expires_in, or answer token requests late (tokenLatencyMs);
//   faults for chaos runs: answer token requests with an HTTP status (5xx, 429 + Retry-After) with a
//   probability, or accept them and never answer (a black hole);
// - a log of token requests (time, grant, audience, status, OAuth error) and counts of OAuth errors,
//   so that what a client did is told by the server (e.g. a rotated refresh token used twice).
// It prints nothing (oidc-provider's advisory notices are silenced by configuring every default).
//
//   const server = await startLocalOAuthServer({ clients: [{ clientId: 'm2m', authMethod:
//     'client_secret_post', clientSecret: 's3cret' }], resourceServers: { 'https://api.example/':
//     { scope: 'read:users' } } });
//   server.issuer, server.tokenEndpoint, server.caPem, server.tokenRequests('client_credentials')
//   await server.stop();
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { createTemporaryCertificateAuthority, listen, onOff } from './local-https-server.ts';
import { issueCertificate, type CertificateAuthority } from './tls.ts';

/** Auth0's token and revocation paths (oidc-provider's defaults are /token and /token/revocation). */
export const TOKEN_PATH = '/oauth/token';
export const REVOCATION_PATH = '/oauth/revoke';

export type LocalAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

export interface LocalOAuthClient {
  clientId: string;
  authMethod: LocalAuthMethod;
  /** For client_secret_post and client_secret_basic. */
  clientSecret?: string;
  /** Public keys for private_key_jwt (see generateClientKey). */
  jwks?: { keys: JWK[] };
}

export interface LocalResourceServer {
  /** Space-separated scopes the resource server knows. */
  scope: string;
  /** Access token lifetime in seconds; default: the server's accessTokenTtlSeconds. */
  accessTokenTtlSeconds?: number;
  /** Default `jwt`. */
  format?: 'jwt' | 'opaque';
}

/** Which metadata documents are served: OIDC discovery, RFC 8414, both, or none (static endpoints). */
export type DiscoveryMode = 'oidc' | 'oauth2' | 'both' | 'none';

export interface LocalOAuthServerOptions {
  clients: LocalOAuthClient[];
  /** Resource servers by identifier: the values `audience` or `resource` may take. */
  resourceServers?: Record<string, LocalResourceServer>;
  /** Lifetime of resource-server (JWT) access tokens, seconds. Default 2. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of opaque client_credentials tokens (no audience), seconds. Default 600. */
  clientCredentialsTtlSeconds?: number;
  discovery?: DiscoveryMode;
  /** CA to sign the server certificate; a fresh one in a temporary directory when absent. */
  ca?: CertificateAuthority;
  /** Port on 127.0.0.1; a free one when absent. */
  port?: number;
}

/** Behaviour that tests may switch at run time. */
export interface LocalOAuthServerTweaks {
  /** Drop `expires_in` from token responses (the client must read the JWT's exp). */
  omitExpiresIn: boolean;
  /** Delay before each token request is handled, in ms: a slow or distant endpoint. */
  tokenLatencyMs: number;
  /** A fault on token requests, until set back to undefined. */
  fault?: TokenFault;
}

/** Token requests answered with `status` (and Retry-After) with probability `ratio`, or never answered. */
export type TokenFault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; ratio: number; random?: () => number }
  | { kind: 'black-hole' };

/** One token request as the server saw it. */
export interface TokenLogEntry {
  /** Epoch ms when the request arrived, and when it was answered (undefined: never answered). */
  receivedAt: number;
  answeredAt?: number;
  grantType: string;
  audience?: string;
  status: number;
  /** The OAuth error code answered, if any (`invalid_grant` for a reused rotated refresh token). */
  error?: string;
  /** Answered by an injected fault, not by the OAuth server. */
  fault?: boolean;
  /** refresh_token grant: `tokenDigest` of the refresh token presented, and of the one issued (if any). */
  presented?: string;
  issued?: string;
}

/** A short one-way digest of a token, to follow a refresh token's rotations without keeping it. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export interface LocalOAuthServer {
  /** `https://127.0.0.1:{port}` */
  readonly issuer: string;
  readonly port: number;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  /** PEM of the CA that signed the server certificate: give it to the client as an extra CA. */
  readonly caPem: string;
  readonly tweaks: LocalOAuthServerTweaks;
  /** Token requests received (successful or not), for one grant type or all. */
  tokenRequests(grantType?: string): number;
  /** HTTP requests received, for one path (e.g. `/.well-known/openid-configuration`) or all. */
  requests(path?: string): number;
  /** OAuth errors answered to token requests, by code. */
  tokenErrors(): Record<string, number>;
  /** Every token request so far, in arrival order. */
  tokenLog(): readonly TokenLogEntry[];
  resetCounters(): void;
  /** A refresh token for the client, as if a user had authorised it (scope `offline_access`). */
  issueRefreshToken(clientId: string, options?: { resource?: string; scope?: string }): Promise<string>;
  /** Whether a refresh token or opaque client_credentials token is still active at the server. */
  isActive(token: string): Promise<boolean>;
  /** Stops listening and drops connections; the port is kept for available(). */
  unavailable(): Promise<void>;
  /** Listens again on the same port. */
  available(): Promise<void>;
  stop(): Promise<void>;
}

/** An ES256 key pair for a private_key_jwt client: the PEM for the client, the JWK for the server. */
export async function generateClientKey(
  keyId?: string,
): Promise<{ privateKeyPem: string; publicJwk: JWK; algorithm: 'ES256' }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = {
    ...(await exportJWK(publicKey)),
    alg: 'ES256',
    use: 'sig',
    ...(keyId ? { kid: keyId } : {}),
  };
  return { privateKeyPem: await exportPKCS8(privateKey), publicJwk, algorithm: 'ES256' };
}

export async function startLocalOAuthServer(options: LocalOAuthServerOptions): Promise<LocalOAuthServer> {
  const own =
    // A distinct name per CA: a client trusting two servers' CAs at once finds each by its subject.
    options.ca === undefined
      ? await createTemporaryCertificateAuthority(`coffre local OAuth CA ${randomUUID().slice(0, 8)}`)
      : undefined;
  const ca = options.ca ?? (own as { ca: CertificateAuthority }).ca;
  const certificate = await issueCertificate(ca, {
    name: `oauth-server-${process.pid}-${Date.now()}`,
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });

  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem });
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `https://127.0.0.1:${port}`;

  const counts = new Map<string, number>();
  const errorCounts = new Map<string, number>();
  const log: TokenLogEntry[] = [];
  const tweaks: LocalOAuthServerTweaks = { omitExpiresIn: false, tokenLatencyMs: 0 };
  const provider = new Provider(issuer, await configuration(options));
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    const receivedAt = Date.now();
    await next();
    if (ctx.method !== 'POST' || ctx.path !== TOKEN_PATH) return;
    const grantType = ctx.oidc?.params?.grant_type ?? ctx.oidc?.body?.grant_type;
    const key = typeof grantType === 'string' ? grantType : 'unknown';
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const body = (ctx as { body?: unknown }).body;
    const error =
      typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string'
        ? body.error
        : undefined;
    if (error !== undefined) errorCounts.set(error, (errorCounts.get(error) ?? 0) + 1);
    const audience = ctx.oidc?.body?.audience ?? ctx.oidc?.body?.resource;
    const presented = key === 'refresh_token' ? ctx.oidc?.body?.refresh_token : undefined;
    const issued =
      typeof body === 'object' && body !== null && 'refresh_token' in body ? body.refresh_token : undefined;
    log.push({
      receivedAt,
      answeredAt: Date.now(),
      grantType: key,
      ...(typeof audience === 'string' ? { audience } : {}),
      status: ctx.status,
      ...(error === undefined ? {} : { error }),
      ...(typeof presented === 'string' ? { presented: tokenDigest(presented) } : {}),
      ...(typeof issued === 'string' ? { issued: tokenDigest(issued) } : {}),
    });
    if (tweaks.omitExpiresIn && typeof body === 'object' && body !== null && 'expires_in' in body) {
      delete (body as { expires_in?: unknown }).expires_in;
    }
  });
  const handler = provider.callback();
  const discovery = options.discovery ?? 'oidc';
  const pathCounts = new Map<string, number>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    pathCounts.set(path, (pathCounts.get(path) ?? 0) + 1);
    const oidcServed = discovery === 'oidc' || discovery === 'both';
    const oauth2Served = discovery === 'oauth2' || discovery === 'both';
    if (path === '/.well-known/oauth-authorization-server' && oauth2Served) {
      req.url = '/.well-known/openid-configuration';
    } else if (
      (path === '/.well-known/openid-configuration' && !oidcServed) ||
      path === '/.well-known/oauth-authorization-server'
    ) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    const fault = tweaks.fault;
    if (fault !== undefined && req.method === 'POST' && path === TOKEN_PATH) {
      if (fault.kind === 'black-hole') {
        // Accept, read, never answer: the client's own deadline is all that ends the exchange.
        log.push({ receivedAt: Date.now(), grantType: 'unknown', status: 0, fault: true });
        req.resume();
        return;
      }
      if ((fault.random ?? Math.random)() < fault.ratio) {
        const receivedAt = Date.now();
        req.resume();
        res
          .writeHead(fault.status, {
            'content-type': 'application/json',
            ...(fault.retryAfterSeconds === undefined
              ? {}
              : { 'retry-after': String(fault.retryAfterSeconds) }),
          })
          .end(
            JSON.stringify({ error: fault.status === 429 ? 'too_many_requests' : 'temporarily_unavailable' }),
          );
        log.push({
          receivedAt,
          answeredAt: Date.now(),
          grantType: 'unknown',
          status: fault.status,
          fault: true,
        });
        return;
      }
    }
    if (tweaks.tokenLatencyMs > 0 && req.method === 'POST' && path === TOKEN_PATH) {
      setTimeout(() => {
        handler(req, res);
      }, tweaks.tokenLatencyMs);
      return;
    }
    handler(req, res);
  });

  return {
    issuer,
    port,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    revocationEndpoint: `${issuer}${REVOCATION_PATH}`,
    caPem: ca.certPem,
    tweaks,
    tokenRequests(grantType) {
      if (grantType !== undefined) return counts.get(grantType) ?? 0;
      return [...counts.values()].reduce((sum, count) => sum + count, 0);
    },
    requests(path) {
      if (path !== undefined) return pathCounts.get(path) ?? 0;
      return [...pathCounts.values()].reduce((sum, count) => sum + count, 0);
    },
    tokenErrors() {
      return Object.fromEntries(errorCounts);
    },
    tokenLog() {
      return log;
    },
    resetCounters() {
      counts.clear();
      pathCounts.clear();
      errorCounts.clear();
      log.length = 0;
    },
    async issueRefreshToken(clientId, refreshOptions = {}) {
      const client = await provider.Client.find(clientId);
      if (client === undefined) throw new Error(`unknown client ${clientId}`);
      const accountId = 'local-user';
      const scope = refreshOptions.scope ?? 'offline_access';
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope(scope);
      const { resource } = refreshOptions;
      if (resource !== undefined) {
        grant.addResourceScope(resource, options.resourceServers?.[resource]?.scope ?? '');
      }
      const grantId = await grant.save();
      const refreshToken = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        scope,
        gty: 'authorization_code',
        expiresWithSession: false,
        ...(resource === undefined ? {} : { resource }),
      });
      return refreshToken.save();
    },
    async isActive(token) {
      const found =
        (await provider.RefreshToken.find(token)) ?? (await provider.ClientCredentials.find(token));
      return found?.isValid === true;
    },
    ...onOff(server, port, own),
  };
}

async function configuration(options: LocalOAuthServerOptions): Promise<Record<string, unknown>> {
  const signingKeys = await Promise.all(
    (['ES256', 'RS256'] as const).map(async (alg) => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `local-${alg.toLowerCase()}` };
    }),
  );
  const resourceServers = options.resourceServers ?? {};
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 2;

  return {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }),
      ...(client.jwks === undefined ? {} : { jwks: client.jwks }),
      token_endpoint_auth_method: client.authMethod,
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://127.0.0.1/callback'],
    })),
    jwks: { keys: signingKeys },
    cookies: { keys: [crypto.randomUUID()] },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    // Auth0's paths, so that an `auth0` connection whose domain is this server works unchanged.
    routes: { token: TOKEN_PATH, revocation: REVOCATION_PATH },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // Auth0's `audience` is this server's RFC 8707 resource indicator.
        defaultResource: (ctx: KoaContextWithOIDC) => {
          const audience = ctx.oidc?.body?.audience;
          return typeof audience === 'string' && audience !== '' ? audience : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
          const server = Object.hasOwn(resourceServers, resourceIndicator)
            ? resourceServers[resourceIndicator]
            : undefined;
          if (server === undefined) throw new errors.InvalidTarget();
          return {
            scope: server.scope,
            audience: resourceIndicator,
            accessTokenTTL: server.accessTokenTtlSeconds ?? accessTokenTtl,
            accessTokenFormat: server.format ?? 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    adapter: memoryAdapter(),
    ttl: {
      // A resource server's lifetime wins; opaque tokens without one get the default.
      ClientCredentials: (_ctx: unknown, token: TokenWithResource) =>
        token.resourceServer?.accessTokenTTL ?? options.clientCredentialsTtlSeconds ?? 600,
      AccessToken: (_ctx: unknown, token: TokenWithResource) =>
        token.resourceServer?.accessTokenTTL ?? options.clientCredentialsTtlSeconds ?? 600,
      RefreshToken: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    rotateRefreshToken: true,
    issueRefreshToken: () => true,
    pkce: { required: () => false },
    renderError: (ctx: { type: string; body: unknown }, out: unknown) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

interface TokenWithResource {
  resourceServer?: { accessTokenTTL?: number };
}

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

/**
 * oidc-provider's storage, in memory and private to one server (the built-in one is shared by every
 * provider in the process and prints a warning).
 */
function memoryAdapter(): new (model: string) => object {
  const store = new Map<string, { payload: Payload; expiresAt: number }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return class MemoryAdapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    #key(id: string) {
      return `${this.#model}:${id}`;
    }
    upsert(id: string, payload: Payload, expiresIn?: number) {
      const expiresAt =
        typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      store.set(this.#key(id), { payload: { ...payload }, expiresAt });
      return Promise.resolve();
    }
    find(id: string) {
      return Promise.resolve(live(this.#key(id)));
    }
    findByUid(uid: string) {
      return Promise.resolve(this.#findBy((payload) => payload.uid === uid));
    }
    findByUserCode(userCode: string) {
      return Promise.resolve(this.#findBy((payload) => payload.userCode === userCode));
    }
    consume(id: string) {
      const payload = live(this.#key(id));
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }
    destroy(id: string) {
      store.delete(this.#key(id));
      return Promise.resolve();
    }
    revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) {
        if (entry.payload.grantId === grantId) store.delete(key);
      }
      return Promise.resolve();
    }
    #findBy(match: (payload: Payload) => boolean) {
      const prefix = `${this.#model}:`;
      for (const [key] of store) {
        const payload = key.startsWith(prefix) ? live(key) : undefined;
        if (payload !== undefined && match(payload)) return payload;
      }
      return undefined;
    }
  };
}
