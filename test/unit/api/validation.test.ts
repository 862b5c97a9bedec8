import { describe, expect, it } from 'vitest';
import { createValidators, formatProblems } from '../../../src/api/validation.ts';
import { ConnectionTypes } from '../../../src/connection-types/definitions.ts';
import { resources } from '../../../src/api/v1alpha1/resources.ts';
import { toPlainJson } from '../../../src/api/v1alpha1/schema-kit.ts';
import { malformedCases, oauthClient, vaultConnection } from '../../fixtures/malformed.ts';
import { allSampleObjects } from '../../support/samples.ts';

const validators = createValidators();

function validate(object: Record<string, unknown>) {
  return object.kind === 'OAuthClient' ? validators.oauthClient(object) : validators.vaultConnection(object);
}

describe('samples', () => {
  const coffreObjects = allSampleObjects().filter((s) => s.object.apiVersion.startsWith('coffre.dev/'));

  it.each(coffreObjects.map((s) => [`${s.file}: ${s.object.kind}/${s.object.metadata.name}`, s.object]))(
    'accepts %s',
    (_title, object) => {
      const result = validate(object);
      expect(result.ok ? '' : formatProblems(result.problems)).toBe('');
    },
  );

  it('has one VaultConnection sample per connection type and an OAuthClient', () => {
    const types = new Set(
      coffreObjects
        .filter((s) => s.object.kind === 'VaultConnection')
        .map((s) => (s.object.spec as { type: string }).type),
    );
    expect([...types].sort()).toEqual([...ConnectionTypes].sort());
    expect(coffreObjects.some((s) => s.object.kind === 'OAuthClient')).toBe(true);
  });

  it('ships every referenced Secret beside the resource that references it', () => {
    for (const file of new Set(coffreObjects.map((s) => s.file))) {
      const objects = allSampleObjects().filter((s) => s.file === file);
      const secrets = new Set(
        objects.filter((s) => s.object.kind === 'Secret').map((s) => s.object.metadata.name),
      );
      for (const { object } of objects) {
        const spec = (object.spec ?? {}) as Record<string, { name?: string } | undefined>;
        for (const ref of [spec.credentialsRef, spec.clientSecretRef, spec.privateKeyRef]) {
          if (ref?.name === undefined || file === 'empty.yaml') continue;
          expect(secrets, `${file}: ${object.metadata.name} references Secret ${ref.name}`).toContain(
            ref.name,
          );
        }
      }
    }
  });
});

describe('malformed resources', () => {
  it('has at least 20 distinct cases', () => {
    expect(new Set(malformedCases.map((c) => JSON.stringify(c.object))).size).toBeGreaterThanOrEqual(20);
  });

  it.each(malformedCases.map((c) => [c.title, c]))('rejects %s, naming the field', (_title, testCase) => {
    const result = validate(testCase.object);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.field)).toContain(testCase.field);
  });
});

describe('validation messages', () => {
  it('names the field and says what is wrong without echoing the value', () => {
    const result = validators.vaultConnection(
      vaultConnection({ type: 'apiKey', credentialsRef: { name: 'ok', kye: 'typo' } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(formatProblems(result.problems)).toBe('spec.credentialsRef.kye: is not a known field');
  });

  it('reports every problem of an object at once', () => {
    const result = validators.oauthClient(
      oauthClient({ issuer: 'http://x.example.com/', authMethod: 'none' }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([...new Set(result.problems.map((p) => p.field))].sort()).toEqual([
      'spec.authMethod',
      'spec.clientId',
      'spec.issuer',
    ]);
  });

  it('accepts oauth2 with both references when the grant is refresh_token', () => {
    const result = validators.vaultConnection(
      vaultConnection({
        type: 'oauth2',
        oauthClientRef: { name: 'c' },
        credentialsRef: { name: 'r' },
        oauth2: { grant: 'refresh_token' },
      }),
    );
    expect(result.ok).toBe(true);
  });
});

describe('CEL rules', () => {
  function rulesOf(schema: unknown, into: { rule: string; hasCheck: boolean }[] = []) {
    if (Array.isArray(schema)) schema.forEach((s) => rulesOf(s, into));
    else if (schema !== null && typeof schema === 'object') {
      for (const [key, value] of Object.entries(schema)) {
        if (key === 'x-kubernetes-validations') {
          for (const rule of value as { rule: string; check?: unknown }[]) {
            into.push({ rule: rule.rule, hasCheck: typeof rule.check === 'function' });
          }
        } else rulesOf(value, into);
      }
    }
    return into;
  }

  it('every rule that does not compare with oldSelf has a JavaScript twin for ajv', () => {
    for (const resource of Object.values(resources)) {
      for (const { rule, hasCheck } of rulesOf(resource.schema)) {
        expect(hasCheck, rule).toBe(!rule.includes('oldSelf'));
      }
    }
  });

  it('the plain JSON form carries no functions', () => {
    expect(JSON.stringify(toPlainJson(resources.VaultConnection.schema))).not.toContain('check');
  });
});
