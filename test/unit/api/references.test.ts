// The admission policy covers every reference of the API, because both come from one list: the
// REFERENCE markers on the schemas. These tests fail when a new `*Ref` field is added without a marker,
// or when the generated policy misses a marked field.
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { resources } from '../../../src/api/v1alpha1/resources.ts';
import { referenceAccess, referenceFields } from '../../../src/api/v1alpha1/references.ts';
import {
  finalizerOnlyValidation,
  referencePolicy,
  referenceValidation,
} from '../../../scripts/generate/admission-policy.ts';

/** Every property path whose name ends in `Ref`, at any depth (through arrays too). */
function refNamedPaths(schema: TSchema, path: string[] = []): string[][] {
  const out: string[][] = [];
  const node = schema as { properties?: Record<string, TSchema>; items?: TSchema };
  for (const [name, property] of Object.entries(node.properties ?? {})) {
    const here = [...path, name];
    if (name.endsWith('Ref') || name.endsWith('Refs')) out.push(here);
    out.push(...refNamedPaths(property, here));
  }
  if (node.items !== undefined) out.push(...refNamedPaths(node.items, [...path, '[]']));
  return out;
}

describe('reference fields', () => {
  it.each(Object.values(resources).map((r) => [r.kind, r] as const))(
    'should mark every *Ref field of %s with the access its author needs',
    (_kind, resource) => {
      const marked = referenceFields(resource.schema).map((f) => f.path.join('.'));
      for (const path of refNamedPaths(resource.schema)) expect(marked).toContain(path.join('.'));
    },
  );

  it('should find the references the docs name', () => {
    const found = Object.values(resources).flatMap((r) =>
      referenceFields(r.schema).map((f) => `${r.kind}.${f.path.join('.')}:${f.access.verb}`),
    );
    expect(found).toEqual([
      'VaultConnection.spec.credentialsRef:get',
      'VaultConnection.spec.oauthClientRef:use',
      'VaultConnection.spec.rolloutRestartTargets:patch',
      'OAuthClient.spec.clientSecretRef:get',
      'OAuthClient.spec.privateKeyRef:get',
    ]);
  });

  it('should not mark plain objects', () => {
    expect(referenceAccess(resources.VaultConnection.schema)).toBeUndefined();
  });
});

describe('the reference admission policy', () => {
  const policy = referencePolicy() as {
    spec: { validations: { expression: string; messageExpression: string }[]; failurePolicy: string };
  };

  it('should have one validation per reference field of every kind, then the finalizer-only rule', () => {
    const expected = Object.values(resources).flatMap((r) =>
      referenceFields(r.schema).map((f) => referenceValidation(r.plural, f)),
    );
    expect(policy.spec.validations).toEqual([...expected, finalizerOnlyValidation]);
    expect(expected.length).toBeGreaterThanOrEqual(5);
  });

  it('should refuse when it cannot evaluate (failurePolicy Fail)', () => {
    expect(policy.spec.failurePolicy).toBe('Fail');
  });

  it.each(
    Object.values(resources).flatMap((r) =>
      referenceFields(r.schema).map((f) => [`${r.kind} ${f.path.join('.')}`, r.plural, f] as const),
    ),
  )('should check %s against the requesting user and name the field in the refusal', (_t, plural, field) => {
    const validation = referenceValidation(plural, field);
    expect(validation.expression).toContain(`request.resource.resource != '${plural}'`);
    expect(validation.expression).toContain(`.check('${field.access.verb}').allowed()`);
    expect(validation.expression).toContain('namespace(request.namespace)');
    expect(validation.messageExpression).toContain(`'${field.path.join('.')}: '`);
    expect(validation.messageExpression).toContain('request.userInfo.username');
  });
});
