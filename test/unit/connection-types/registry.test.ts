// A connection type is one folder and two registry lines: these tests fail when a registered type lacks
// a piece the operator needs, when the API's list and the operator's registry disagree, and when the
// API (which scripts/generate imports) would reach a provider or a token adapter.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VaultConnectionSpecSchema } from '../../../src/api/v1alpha1/vault-connection.ts';
import {
  connectionTypeProblems,
  type ConnectionTypeModule,
} from '../../../src/connection-types/connection-type.ts';
import {
  connectionTypes,
  ConnectionTypes,
  ExpiringTokenTypes,
  OAuthClientTypes,
} from '../../../src/connection-types/definitions.ts';
import { connectionTypeRegistry, tokenAdaptersOf } from '../../../src/connection-types/registry.ts';
import { slack } from '../../../src/connection-types/slack/index.ts';
import { createProviderRegistry } from '../../../src/providers/registry.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the connection-type registry', () => {
  it('should register every type the API lists, in the same order, and nothing else', () => {
    expect(Object.keys(connectionTypeRegistry)).toEqual([...ConnectionTypes]);
  });

  it('should list every folder of src/connection-types (a folder in neither list is dead code)', () => {
    const folders = readdirSync(resolve(repo, 'src/connection-types'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.sort()).toEqual([...ConnectionTypes].sort());
  });

  it.each(ConnectionTypes)('should find %s complete', (type) => {
    expect(connectionTypeProblems(type, connectionTypeRegistry[type], connectionTypes[type])).toEqual([]);
  });

  it('should derive the spec.type enum and a settings block per type from the definitions', () => {
    const spec = VaultConnectionSpecSchema as unknown as {
      properties: Record<string, { enum?: string[]; description?: string }>;
    };
    expect(spec.properties.type?.enum).toEqual([...ConnectionTypes]);
    for (const type of ConnectionTypes) {
      expect(spec.properties[type]?.description).toBe(connectionTypes[type].settings.schema.description);
    }
  });

  it('should derive the expiring types, the OAuthClient types, the providers and the token adapters', () => {
    expect(ExpiringTokenTypes).toEqual(['auth0', 'oauth2', 'twilio', 'slack', 'shopify', 'zendesk']);
    expect(OAuthClientTypes).toEqual(['auth0', 'oauth2']);
    const providers = createProviderRegistry();
    for (const type of ConnectionTypes) expect(providers[type]).toBe(connectionTypeRegistry[type].provider);
    expect(tokenAdaptersOf().map((adapter) => adapter.flavour)).toEqual([
      'twilio',
      'slack',
      'shopify',
      'zendesk',
    ]);
  });
});

describe('connectionTypeProblems', () => {
  const apiKey = connectionTypeRegistry.apiKey;
  // Modules assembled by hand, as a contributor might: each lacks one piece.
  const broken = (module: object) => module as Partial<ConnectionTypeModule>;

  it.each([
    ['should refuse a type that is not registered', 'slack', undefined, 'slack: not registered'],
    [
      'should refuse a type without a definition',
      'slack',
      broken({ provider: slack.provider }),
      'slack: no definition',
    ],
    [
      'should refuse a type without a provider',
      'slack',
      broken({ definition: slack.definition }),
      'slack: no provider',
    ],
    [
      "should refuse a provider of another type (a copied folder whose provider's type was not renamed)",
      'slack',
      broken({ definition: slack.definition, provider: apiKey.provider }),
      'slack: the provider is of type apiKey',
    ],
    [
      'should refuse a provider without plan()',
      'slack',
      broken({ definition: slack.definition, provider: { type: 'slack' } }),
      'slack: the provider has no plan()',
    ],
    [
      'should refuse a definition registered under another name',
      'slack',
      broken({ definition: apiKey.definition, provider: slack.provider }),
      'slack: the definition is of type apiKey',
    ],
    [
      'should refuse a definition that is not the one the API lists (registered in registry.ts only)',
      'slack',
      broken({ definition: { ...slack.definition }, provider: slack.provider }),
      'slack: the definition is not the one connection-types/definitions.ts lists',
    ],
    [
      'should refuse a type without a summary (docs/api.md)',
      'apiKey',
      broken({ ...apiKey, definition: { ...apiKey.definition, summary: ' ' } }),
      'apiKey: no summary',
    ],
    [
      'should refuse a type without a settings schema',
      'apiKey',
      broken({ ...apiKey, definition: { ...apiKey.definition, settings: { required: false } } }),
      'apiKey: no settings schema (an object, even if empty)',
    ],
    [
      'should refuse a settings schema without a description (docs/api.md)',
      'apiKey',
      broken({
        ...apiKey,
        definition: { ...apiKey.definition, settings: { schema: { type: 'object' }, required: false } },
      }),
      'apiKey: the settings schema has no description',
    ],
    [
      'should refuse a type that reads no credentials and requires no OAuthClient',
      'apiKey',
      broken({ ...apiKey, definition: { ...apiKey.definition, variants: [] } }),
      'apiKey: no credential variants, and no OAuthClient required',
    ],
    [
      'should refuse a variant that reads no key',
      'apiKey',
      broken({
        ...apiKey,
        definition: { ...apiKey.definition, variants: [{ name: 'none', keys: [], description: 'Nothing.' }] },
      }),
      'apiKey: variant none reads no key',
    ],
    [
      'should refuse a type that publishes no key',
      'apiKey',
      broken({ ...apiKey, definition: { ...apiKey.definition, published: {} } }),
      'apiKey: publishes no key',
    ],
    [
      'should refuse a token adapter on a type without tokens',
      'apiKey',
      broken({ ...apiKey, tokenAdapter: slack.tokenAdapter }),
      'apiKey: a token adapter, but the type has no tokens',
    ],
    [
      'should refuse a token adapter that claims the standard flavour',
      'slack',
      broken({ ...slack, tokenAdapter: { ...slack.tokenAdapter, flavour: 'standard' } }),
      'slack: the token adapter needs a flavour of its own (not standard)',
    ],
    [
      'should refuse a token adapter without requestToken()',
      'slack',
      broken({
        ...slack,
        tokenAdapter: { flavour: 'slack', tokenEndpoint: slack.tokenAdapter.tokenEndpoint },
      }),
      'slack: the token adapter needs tokenEndpoint() and requestToken()',
    ],
  ])('%s', (_behaviour, key, module, problem) => {
    const apiDefinition = connectionTypes[key as 'slack' | 'apiKey'];
    expect(connectionTypeProblems(key, module, apiDefinition)).toContain(problem);
  });
});

describe('the API half of a type', () => {
  /** Every module a file reaches through value imports (type-only imports are erased by Node). */
  function valueImports(entry: string): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, clause, specifier] of source.matchAll(
        /^(?:import|export)\s+([^'";]*?)\s*from\s+'([^']+)'/gms,
      )) {
        if (clause?.startsWith('type ') || specifier === undefined) continue;
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
        else seen.add(specifier);
      }
    };
    visit(resolve(repo, entry));
    return seen;
  }

  it.each(['src/api/v1alpha1/resources.ts', 'scripts/generate/api-docs.ts'])(
    'should keep %s clear of providers, token adapters and the OAuth engine',
    (entry) => {
      const reached = [...valueImports(entry)].map((file) => file.replace(`${repo}/`, ''));
      expect(reached).toContain('src/connection-types/definitions.ts');
      const runtime = reached.filter((file) =>
        /^src\/(providers|oauth|reconcilers)\/|^src\/connection-types\/(registry\.ts|[^/]+\/(provider|token-adapter|index)\.ts)$|^openid-client$/.test(
          file,
        ),
      );
      expect(runtime).toEqual([]);
    },
  );
});
