// What a connection type declares to the API: its settings block (`spec.<type>`), the keys it reads from
// the credentials Secret and writes to the target Secret, and the facts the operator derives behaviour
// from (whether tokens expire, whether an OAuthClient is accepted). Pure data and TypeBox schemas: the
// API, scripts/generate and the docs import it without pulling in any provider or token adapter.
import { Type, type TObject } from '@sinclair/typebox';
import { strictObject } from '../api/v1alpha1/schema-kit.ts';

/** One accepted set of credential keys; the first complete set in declaration order wins. */
export interface CredentialVariant {
  /** Short name used in messages and docs. */
  name: string;
  /** Keys that must be present and non-blank in the credentials Secret. */
  keys: readonly string[];
  /** Keys read when present. */
  optionalKeys?: readonly string[];
  description: string;
}

export interface ConnectionTypeDefinition<T extends string = string, S extends TObject = TObject> {
  /** The value of `spec.type`, and the name of the settings block `spec.<type>`. */
  type: T;
  summary: string;
  /** The settings block; `required`: a connection of this type must have it (a CEL rule says so). */
  settings: { schema: S; required: boolean };
  /** Whether the connection obtains expiring tokens (Expired applies, refresh is scheduled). */
  tokens: 'always' | 'variant' | 'never';
  /** Credential variants when credentialsRef is used. Empty when the type takes only an OAuthClient. */
  variants: readonly CredentialVariant[];
  /** Whether oauthClientRef is accepted. */
  oauthClient: 'no' | 'optional' | 'required';
  /** Keys written to the target Secret, with their meaning. */
  published: Readonly<Record<string, string>>;
}

/** Declares a type, keeping its literal name and its settings schema's static type. */
export function defineConnectionType<const T extends string, S extends TObject>(
  definition: ConnectionTypeDefinition<T, S>,
): ConnectionTypeDefinition<T, S> {
  return definition;
}

/** The settings block of a type that has no settings (yet): an empty strict object. */
export function emptySettings(type: string, description: string) {
  return Type.Object(
    {},
    { ...strictObject, description: `Settings of a \`${type}\` connection. ${description}` },
  );
}

/** The standard published keys of a token (see providers/publish-token.ts). */
export const tokenKeys = {
  access_token: 'The access token.',
  token_type: 'The token type, e.g. `Bearer`.',
  expires_at: 'Expiry, RFC 3339 UTC; absent when the token does not expire.',
  scope: 'Granted scopes, space separated; absent when the server reports none.',
} as const;

/** `strictScopes`, for the settings of types that request scopes from a standard OAuth server. */
export const StrictScopes = Type.Boolean({
  description:
    'When true, a token granted more scopes than requested keeps the connection from Ready (reason ScopesExceeded). A Warning event is emitted either way.',
});
