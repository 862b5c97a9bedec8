// A connection type, whole: its definition (what the API says about it), its provider (what it
// publishes, pure) and, for a vendor whose token endpoint openid-client cannot use, its token adapter.
// Each src/connection-types/<type>/index.ts exports one of these; registry.ts lists them.
import type { TokenAdapter } from '../oauth/token-adapter.ts';
import type { Provider } from '../providers/provider.ts';
import type { ConnectionType, DefinitionOf } from './definitions.ts';

export interface ConnectionTypeModule<T extends ConnectionType = ConnectionType> {
  definition: DefinitionOf<T>;
  provider: Provider<T>;
  /** Only for token types whose token endpoint needs its own client; the provider's plans name its flavour. */
  tokenAdapter?: TokenAdapter;
}

/**
 * What a registered type lacks or gets wrong, as messages (empty: complete). The type system catches
 * most of it; this also catches what it cannot: a key that is not its type's name, blank docs, a
 * definition that is not the one the API lists.
 */
export function connectionTypeProblems(
  key: string,
  module: Partial<ConnectionTypeModule> | undefined,
  apiDefinition: unknown,
): string[] {
  if (module === undefined) return [`${key}: not registered`];
  const problems: string[] = [];
  const { definition, provider, tokenAdapter } = module;
  if (definition === undefined) {
    problems.push(`${key}: no definition`);
  } else {
    if (definition.type !== key) problems.push(`${key}: the definition is of type ${definition.type}`);
    if (definition !== apiDefinition)
      problems.push(`${key}: the definition is not the one connection-types/definitions.ts lists`);
    if (definition.summary.trim() === '') problems.push(`${key}: no summary`);
    // Read loosely: a module assembled by hand (or by a test) may lack what the types promise.
    const settings = definition.settings as
      { schema?: { type?: unknown; description?: unknown } } | undefined;
    const schema = settings?.schema;
    if (schema?.type !== 'object') problems.push(`${key}: no settings schema (an object, even if empty)`);
    else if (typeof schema.description !== 'string' || schema.description.trim() === '')
      problems.push(`${key}: the settings schema has no description`);
    if (definition.variants.length === 0 && definition.oauthClient !== 'required')
      problems.push(`${key}: no credential variants, and no OAuthClient required`);
    for (const variant of definition.variants) {
      if (variant.keys.length === 0) problems.push(`${key}: variant ${variant.name} reads no key`);
      if (variant.description.trim() === '')
        problems.push(`${key}: variant ${variant.name} has no description`);
    }
    if (Object.keys(definition.published).length === 0) problems.push(`${key}: publishes no key`);
    if (tokenAdapter !== undefined && definition.tokens === 'never')
      problems.push(`${key}: a token adapter, but the type has no tokens`);
  }
  if (provider === undefined) problems.push(`${key}: no provider`);
  else {
    if (provider.type !== key) problems.push(`${key}: the provider is of type ${provider.type}`);
    if (typeof provider.plan !== 'function') problems.push(`${key}: the provider has no plan()`);
  }
  if (tokenAdapter !== undefined) {
    if (tokenAdapter.flavour === '' || tokenAdapter.flavour === 'standard')
      problems.push(`${key}: the token adapter needs a flavour of its own (not standard)`);
    if (typeof tokenAdapter.tokenEndpoint !== 'function' || typeof tokenAdapter.requestToken !== 'function')
      problems.push(`${key}: the token adapter needs tokenEndpoint() and requestToken()`);
  }
  return problems;
}
