// The engine's vocabulary: which client, what to ask for, what comes back. Secret material is only
// ever a SecretValue here.
import type { AuthMethod } from '../api/v1alpha1/oauth-client.ts';
import type { SecretValue } from '../secrets/secret-value.ts';

export type { AuthMethod };

/** A registered OAuth client, as an OAuthClient resource and its Secret describe it. */
export interface ClientConfig {
  /** Issuer URL: discovery starts here unless tokenEndpoint is set. For Shopify, `https://{shop}`. */
  issuer: string;
  /** Static token endpoint: no discovery. For the vendor adapters, overrides the vendor's endpoint. */
  tokenEndpoint?: string;
  /** Static RFC 7009 revocation endpoint, instead of discovery's `revocation_endpoint`. */
  revocationEndpoint?: string;
  authMethod: AuthMethod;
  clientId: string;
  /** client_secret_basic and client_secret_post. */
  clientSecret?: SecretValue;
  /** private_key_jwt: a PKCS#8 PEM key, an optional `kid`, and the JWS algorithm (else implied by the key). */
  privateKey?: { pem: SecretValue; keyId?: string; algorithm?: string };
}

export type Grant = { type: 'client_credentials' } | { type: 'refresh_token'; refreshToken: SecretValue };

/**
 * How the token endpoint behaves: `standard` (an OAuth 2.0 server, through openid-client), or the
 * flavour of a vendor's token adapter (`slack`, `shopify`: see TokenAdapter) the engine was given.
 */
export type Flavour = string;

export interface TokenRequest {
  client: ClientConfig;
  grant: Grant;
  /** Auth0's `audience` parameter. */
  audience?: string;
  /** RFC 8707 resource indicators (repeatable). */
  resource?: string[];
  scopes?: string[];
  /** The access token lifetime to ask for, for endpoints that take one (Zendesk's `expires_in`). */
  expiresInSeconds?: number;
  flavour?: Flavour;
  /**
   * Requests in different partitions never share a token, whatever else they have in common. The
   * operator partitions by namespace: a token minted for one tenant is never handed to another's
   * connection (nor one a tenant planted in its own Secret). Absent: the empty partition.
   */
  partition?: string;
}

/**
 * A token from a token endpoint, or seeded from a Secret.
 *
 * Refresh-token rotation contract: when `refreshToken` is set it REPLACES the refresh token the
 * request used, which the server may have invalidated the moment it answered. Persist it (write the
 * Secret) BEFORE using or publishing `accessToken`; if that write fails, the old refresh token may
 * already be dead and only a new authorisation can recover.
 */
export interface TokenSet {
  accessToken: SecretValue;
  /** As the server sent it (`Bearer`, `bot`...); `Bearer` when the server sent none (Shopify). */
  tokenType: string;
  /** Epoch ms; undefined when neither expires_in nor a JWT `exp` says. */
  expiresAt?: number;
  /** Epoch ms when the request was sent (never later than the server's issue time). */
  issuedAt: number;
  /** The scopes the server says it granted; undefined when it did not say. */
  grantedScopes?: string[];
  /** A new refresh token (rotation): persist it before using accessToken. */
  refreshToken?: SecretValue;
}

/** Server metadata as the engine uses it. */
export interface ResolvedClient {
  tokenEndpoint: string;
  /** RFC 7009 endpoint, when the server advertises one. */
  revocationEndpoint?: string;
  authMethod: AuthMethod;
  /** Human-readable warnings (e.g. the server does not list the configured auth method). */
  warnings: string[];
}
