// The connection types the operator runs, one line per type (no self-registration). Typed so that a
// type the API lists (definitions.ts) and the operator cannot run fails to compile; what the compiler
// cannot check, connectionTypeProblems does (test/unit/connection-types/registry.test.ts). Providers and
// the engine's token adapters derive from here; the API's half (schemas, enum, docs) from definitions.ts.
import type { TokenAdapter } from '../oauth/token-adapter.ts';
import { apiKey } from './apiKey/index.ts';
import { auth0 } from './auth0/index.ts';
import { basicAuth } from './basicAuth/index.ts';
import { bearerToken } from './bearerToken/index.ts';
import type { ConnectionTypeModule } from './connection-type.ts';
import type { ConnectionType } from './definitions.ts';
import { oauth2 } from './oauth2/index.ts';
import { shopify } from './shopify/index.ts';
import { slack } from './slack/index.ts';
import { twilio } from './twilio/index.ts';
import { zendesk } from './zendesk/index.ts';

export type ConnectionTypeRegistry = { readonly [T in ConnectionType]: ConnectionTypeModule<T> };

export const connectionTypeRegistry: ConnectionTypeRegistry = {
  auth0,
  oauth2,
  twilio,
  slack,
  shopify,
  zendesk,
  apiKey,
  bearerToken,
  basicAuth,
};

/** The token adapters of the registered types, for the engine (`createTokenEngine({ adapters })`). */
export function tokenAdaptersOf(registry: ConnectionTypeRegistry = connectionTypeRegistry): TokenAdapter[] {
  return Object.values(registry).flatMap((module) =>
    module.tokenAdapter === undefined ? [] : [module.tokenAdapter],
  );
}
