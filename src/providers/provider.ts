// One interface for every connection type. A provider is pure: given the connection's spec and its
// credentials (already read by the reconciler), it says what to publish — static credentials in a
// normalised form, or a token request and how to publish the token it yields. It performs no I/O.
import type { ConnectionType } from '../connection-types/definitions.ts';
import type { VaultConnectionSpec } from '../api/v1alpha1/vault-connection.ts';
import type { ClientConfig, TokenRequest, TokenSet } from '../oauth/index.ts';
import type { SecretValue } from '../secrets/secret-value.ts';

export interface ProvidersConfig {
  slackApiBaseUrl: string;
  /** `{shop}` is replaced by the shop domain. */
  shopifyBaseUrl: string;
  /** `{subdomain}` is replaced by the Zendesk subdomain. */
  zendeskBaseUrl: string;
  /** Twilio's OAuth service; the token endpoint is `{base}/v2/token`. */
  twilioOAuthBaseUrl: string;
}

export interface ProviderInput {
  spec: VaultConnectionSpec;
  /** Values of the credentials Secret, keyed by Secret key. Empty without credentialsRef. */
  credentials: ReadonlyMap<string, SecretValue>;
  /** The client of the referenced OAuthClient, when the connection uses one. */
  oauthClient?: ClientConfig;
  /** A rotated refresh token coffre persisted, preferred over the one in the credentials Secret. */
  rotatedRefreshToken?: SecretValue;
  config: ProvidersConfig;
}

/** What the credentials lack: the connection is Empty. */
export interface MissingCredentials {
  kind: 'missing';
  /** Keys missing or blank in the credentials Secret. */
  keys: string[];
  variant: string;
}

/** A credential that is present but malformed: a human must fix it. The message names keys, never values. */
export interface InvalidCredentials {
  kind: 'invalid';
  message: string;
}

export interface StaticPlan {
  kind: 'static';
  variant: string;
  /** Published keys and values (see the type's definition.ts). */
  data: ReadonlyMap<string, SecretValue>;
  /**
   * The service retires this kind of credential: published all the same, with this message (which says
   * when, and what to use instead) on Ready (reason CredentialsRetiring) and in a Warning event.
   */
  retiring?: string;
}

export interface TokenPlan {
  kind: 'token';
  variant: string;
  request: TokenRequest;
  /** The refresh token the request starts from, for grants that rotate it. */
  refreshTokenSource?: 'credentials' | 'rotated';
  /** Published keys and values for a token. */
  publish(token: TokenSet): ReadonlyMap<string, SecretValue>;
}

export type Plan = StaticPlan | TokenPlan | MissingCredentials | InvalidCredentials;

export interface Provider<T extends ConnectionType = ConnectionType> {
  type: T;
  plan(input: ProviderInput): Plan;
}
