// The API's list of connection types: one line per type, in the order the API and its docs show them.
// Everything the API knows about types derives from this list: the `spec.type` enum, the settings
// blocks and their CEL rules (vault-connection.ts), the connection types of docs/api.md, and which
// types publish expiring tokens. Only definitions here (schemas and facts): the API and the generators
// import this file, so it must never reach a provider or a token adapter (those are in registry.ts).
import { apiKeyDefinition } from './apiKey/definition.ts';
import { auth0Definition } from './auth0/definition.ts';
import { basicAuthDefinition } from './basicAuth/definition.ts';
import { bearerTokenDefinition } from './bearerToken/definition.ts';
import type { ConnectionTypeDefinition } from './definition.ts';
import { oauth2Definition } from './oauth2/definition.ts';
import { shopifyDefinition } from './shopify/definition.ts';
import { slackDefinition } from './slack/definition.ts';
import { twilioDefinition } from './twilio/definition.ts';
import { zendeskDefinition } from './zendesk/definition.ts';

export type { ConnectionTypeDefinition, CredentialVariant } from './definition.ts';

export const connectionTypeDefinitions = [
  auth0Definition,
  oauth2Definition,
  twilioDefinition,
  slackDefinition,
  shopifyDefinition,
  zendeskDefinition,
  apiKeyDefinition,
  bearerTokenDefinition,
  basicAuthDefinition,
] as const;

type Definitions = (typeof connectionTypeDefinitions)[number];
export type ConnectionType = Definitions['type'];
/** A type's definition, with its settings schema's static type. */
export type DefinitionOf<T extends ConnectionType> = Extract<Definitions, { type: T }>;

/** The values of `spec.type`, in declaration order. */
export const ConnectionTypes: readonly ConnectionType[] = connectionTypeDefinitions.map((d) => d.type);

/** Each type's definition by name. */
export const connectionTypes = Object.fromEntries(
  connectionTypeDefinitions.map((definition) => [definition.type, definition]),
) as Readonly<Record<ConnectionType, ConnectionTypeDefinition>>;

/** The types that may publish expiring tokens (the token expiry gauge has a series per such type). */
export const ExpiringTokenTypes: readonly ConnectionType[] = ConnectionTypes.filter(
  (type) => connectionTypes[type].tokens !== 'never',
);

/** The types that accept `spec.oauthClientRef`. */
export const OAuthClientTypes: readonly ConnectionType[] = ConnectionTypes.filter(
  (type) => connectionTypes[type].oauthClient !== 'no',
);
