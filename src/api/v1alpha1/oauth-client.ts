// OAuthClient: an OAuth 2.0 client registered at an authorisation server, shared by the connections of a
// namespace. Its identity (issuer, token endpoint, authentication method) is immutable, as in Zendesk's
// OAuth clients: once created, only the client ID and its secret may change.
import { Type, type Static } from '@sinclair/typebox';
import { Conditions } from './conditions.ts';
import { secretKeyReference } from './references.ts';
import { HttpsUrl, StringEnum, VALIDATIONS, strictObject, type ValidationRule } from './schema-kit.ts';

export const AuthMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AuthMethods)[number];
export const DEFAULT_AUTH_METHOD: AuthMethod = 'client_secret_basic';
export const SigningAlgorithms = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

interface OAuthClientSpecShape {
  authMethod?: string;
  clientSecretRef?: unknown;
  privateKeyRef?: unknown;
}

const specRules: ValidationRule[] = [
  {
    rule: 'self.issuer == oldSelf.issuer',
    message: 'issuer is immutable: create a new OAuthClient for another issuer',
    fieldPath: '.issuer',
  },
  {
    rule: 'has(self.tokenEndpoint) == has(oldSelf.tokenEndpoint) && (!has(self.tokenEndpoint) || self.tokenEndpoint == oldSelf.tokenEndpoint)',
    message: 'tokenEndpoint is immutable: it can be neither changed, added nor removed',
    fieldPath: '.tokenEndpoint',
  },
  {
    rule: 'has(self.revocationEndpoint) == has(oldSelf.revocationEndpoint) && (!has(self.revocationEndpoint) || self.revocationEndpoint == oldSelf.revocationEndpoint)',
    message: 'revocationEndpoint is immutable: it can be neither changed, added nor removed',
    fieldPath: '.revocationEndpoint',
  },
  {
    rule: 'has(self.authMethod) == has(oldSelf.authMethod) && (!has(self.authMethod) || self.authMethod == oldSelf.authMethod)',
    message: 'authMethod is immutable: it can be neither changed, added nor removed',
    fieldPath: '.authMethod',
  },
  {
    rule: "!has(self.privateKeyRef) || (has(self.authMethod) && self.authMethod == 'private_key_jwt')",
    message: 'privateKeyRef is only used with authMethod private_key_jwt',
    fieldPath: '.privateKeyRef',
    check: (self: OAuthClientSpecShape) =>
      self.privateKeyRef === undefined || self.authMethod === 'private_key_jwt',
  },
  {
    rule: "!has(self.clientSecretRef) || !has(self.authMethod) || self.authMethod != 'private_key_jwt'",
    message: 'clientSecretRef is not used with authMethod private_key_jwt: set privateKeyRef',
    fieldPath: '.clientSecretRef',
    check: (self: OAuthClientSpecShape) =>
      self.clientSecretRef === undefined || self.authMethod !== 'private_key_jwt',
  },
];

export const OAuthClientSpecSchema = Type.Object(
  {
    issuer: HttpsUrl(
      'Issuer of the authorisation server. Its metadata (RFC 8414 or OpenID Connect discovery) gives the token endpoint unless tokenEndpoint is set. Immutable.',
    ),
    tokenEndpoint: Type.Optional(
      HttpsUrl(
        'Token endpoint, for servers without discovery metadata. Immutable; cannot be added or removed.',
      ),
    ),
    revocationEndpoint: Type.Optional(
      HttpsUrl(
        "Revocation endpoint (RFC 7009) for `revokeOnDelete`, instead of the discovery metadata's `revocation_endpoint` (for servers without discovery, or that do not advertise it). The client authenticates there as at the token endpoint, so it is guarded like it (SSRF) and immutable; cannot be added or removed.",
      ),
    ),
    authMethod: Type.Optional(
      StringEnum(AuthMethods, {
        description: `How the client authenticates at the token endpoint. Defaults to \`${DEFAULT_AUTH_METHOD}\` (resolved by the operator, never written into spec), the method every OAuth 2.0 server must support. Immutable. Auth0 applications default to \`client_secret_post\` and refuse another method: set it for Auth0 (docs/decisions/0007).`,
      }),
    ),
    clientId: Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'The client identifier. Not secret. May change (rotation).',
    }),
    clientSecretRef: Type.Optional(
      secretKeyReference(
        'clientSecret',
        'the client secret (client_secret_basic, client_secret_post). Absent: the client is Empty',
      ),
    ),
    privateKeyRef: Type.Optional(
      secretKeyReference(
        'privateKey',
        'the PEM (PKCS#8) private key for private_key_jwt; an optional `keyId` key in the same Secret sets the JWT kid',
      ),
    ),
    signingAlgorithm: Type.Optional(
      StringEnum(SigningAlgorithms, {
        description:
          'JWS algorithm for private_key_jwt assertions. Defaults to the one the key type implies.',
      }),
    ),
    revokeOnDelete: Type.Optional(
      Type.Boolean({
        description:
          "Default of `revokeOnDelete` for the VaultConnections that use this client (a connection's own setting wins). Defaults to false.",
      }),
    ),
  },
  {
    ...strictObject,
    description:
      'The client registration. issuer, tokenEndpoint, revocationEndpoint and authMethod are immutable.',
    [VALIDATIONS]: specRules,
  },
);
export type OAuthClientSpec = Static<typeof OAuthClientSpecSchema>;

export const OAuthClientStatusSchema = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description:
          'The generation this status describes; 0 (the schema default) until coffre has written a status, so that kstatus reads an object coffre has not seen yet as in progress.',
      }),
    ),
    tokenEndpoint: Type.Optional(Type.String({ description: 'The token endpoint as resolved.' })),
    revocationEndpoint: Type.Optional(
      Type.String({
        description: 'The revocation endpoint (RFC 7009) as discovered, if the server has one.',
      }),
    ),
    authMethod: Type.Optional(StringEnum(AuthMethods, { description: 'The authentication method in use.' })),
  },
  { ...strictObject, description: 'Observed state of the OAuthClient.' },
);
export type OAuthClientStatus = Static<typeof OAuthClientStatusSchema>;
