// fast-check arbitraries derived from coffre's API schema (the TypeBox source in src/api/v1alpha1/):
// VaultConnections, OAuthClients and the Secrets they reference, valid, invalid and hostile. A value
// follows its schema most of the time (every enum, patterns, bounds, required keys) and otherwise is
// replaced by something hostile: a huge string, unicode, a wrong type, a missing or an extra key.
// Shared by the unit fuzzing of the validators and the integration fuzzing on the real API server.
import type { TSchema } from '@sinclair/typebox';
import fc from 'fast-check';
import { OAuthClientSpecSchema } from '../../src/api/v1alpha1/oauth-client.ts';
import { VaultConnectionSpecSchema } from '../../src/api/v1alpha1/vault-connection.ts';

/** Strings no schema expects: long, unicode, control characters, template and path syntax. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '../../etc/passwd',
    '{{ .access_token }}',
    '{{ printf "%s" . }}',
    'https://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:1/',
    '__proto__',
    'constructor',
    '😀'.repeat(64),
    'a'.repeat(64),
  ),
  fc.string({ minLength: 1, maxLength: 4 }).map((s) => s.repeat(4096)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, [], {}) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
);

interface JsonSchema {
  type?: string;
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** A string that follows the schema's pattern and bounds when it can, else something short and plain. */
function schemaString(schema: JsonSchema): fc.Arbitrary<string> {
  const max = Math.min(schema.maxLength ?? 64, 64);
  const min = Math.min(schema.minLength ?? 0, max);
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern);
    return fc.stringMatching(pattern).filter((s) => s.length >= min && s.length <= max);
  }
  return fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/).filter((s) => s.length >= min);
}

function conforming(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => arbitraryFor(s, depth)));
  switch (schema.type) {
    case 'string':
      return schemaString(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = schema.items === undefined ? hostileValue : arbitraryFor(schema.items, depth + 1);
      return fc.array(item, {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    }
    case 'object':
      return objectFor(schema, depth);
    default:
      return hostileValue;
  }
}

function objectFor(schema: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(properties).map(
    ([key, child]) =>
      [
        key,
        fc.option(arbitraryFor(child, depth + 1), {
          // Required keys are there most of the time; optional ones half the time.
          freq: required.has(key) ? 12 : 1,
          nil: undefined,
        }),
      ] as const,
  );
  const extra =
    typeof schema.additionalProperties === 'object'
      ? fc.dictionary(
          schemaString({ pattern: '^[-._a-zA-Z0-9]{1,20}$' }),
          arbitraryFor(schema.additionalProperties, depth + 1),
          { maxKeys: 3 },
        )
      : fc.option(fc.dictionary(fc.stringMatching(/^[a-zA-Z]{1,10}$/), hostileValue, { maxKeys: 2 }), {
          freq: 8,
          nil: undefined,
        });
  return fc.tuple(fc.record(Object.fromEntries(entries)), extra).map(([record, more]) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(more ?? {})) out[key] = value;
    for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
    return out;
  });
}

/** A value for a schema: conforming most of the time, hostile sometimes (more often deeper down). */
export function arbitraryFor(schema: TSchema | JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return hostileValue;
  return fc.oneof(
    { weight: 14, arbitrary: conforming(schema as JsonSchema, depth) },
    { weight: 1, arbitrary: hostileValue },
  );
}

/** Names the API server accepts, unique per run by the index the caller appends. */
const namePrefix = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);

export interface FuzzObject {
  kind: 'VaultConnection' | 'OAuthClient' | 'Secret';
  object: Record<string, unknown>;
}

/** Secret names the generated specs point at often enough for references to resolve sometimes. */
export const REFERENCED_SECRET_NAMES = ['creds', 'client', 'a', 'fuzz'] as const;

const secretData = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'apiKey',
      'token',
      'username',
      'password',
      'clientSecret',
      'refreshToken',
      'accessToken',
      'authToken',
      'privateKey',
    ),
    fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/),
  ),
  fc.oneof(hostileString, fc.stringMatching(/^[A-Za-z0-9]{1,40}$/)),
  { maxKeys: 5 },
);

/** One generated object: a VaultConnection, an OAuthClient or a Secret. */
export function fuzzObject(): fc.Arbitrary<FuzzObject> {
  const vc = fc.tuple(namePrefix, arbitraryFor(VaultConnectionSpecSchema)).map(([name, spec]) => ({
    kind: 'VaultConnection' as const,
    object: { apiVersion: 'coffre.dev/v1alpha1', kind: 'VaultConnection', metadata: { name }, spec },
  }));
  const oac = fc.tuple(namePrefix, arbitraryFor(OAuthClientSpecSchema)).map(([name, spec]) => ({
    kind: 'OAuthClient' as const,
    object: { apiVersion: 'coffre.dev/v1alpha1', kind: 'OAuthClient', metadata: { name }, spec },
  }));
  const secret = fc
    .tuple(fc.oneof(fc.constantFrom(...REFERENCED_SECRET_NAMES), namePrefix), secretData)
    .map(([name, data]) => ({
      kind: 'Secret' as const,
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data },
    }));
  return fc.oneof(
    { weight: 5, arbitrary: vc },
    { weight: 2, arbitrary: oac },
    { weight: 2, arbitrary: secret },
  );
}
