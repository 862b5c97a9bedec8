// What the VaultConnection policy trusts and bounds (docs/security.md): a target Secret is trusted only
// as coffre signed it; tokens are shared only within a namespace; what a tenant or a token endpoint
// sends cannot grow a Secret, a status or the operator's memory without bound.
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EXPIRES_AT_ANNOTATION } from '../../../src/api/v1alpha1/metadata-keys.ts';
import {
  MAX_RECORDED_SCOPES_BYTES,
  MAX_TARGET_DATA_BYTES,
  decide,
  planTargetWrite,
  recordedScopes,
  type Decision,
} from '../../../src/reconcilers/vault-connection/policy.ts';
import { capList } from '../../../src/reconcilers/vault-connection/status.ts';
import { createRecordKey } from '../../../src/secrets/record-key.ts';
import { secret } from '../../../src/secrets/secret-value.ts';
import {
  auth0Spec,
  env,
  hashOf,
  now,
  observe,
  publishedTarget,
  recordKey,
  vaultConnection,
} from './support/connections.ts';

const MINUTE = 60_000;
const fresh = { issuedAt: now - 10 * MINUTE, expiresAt: now + 50 * MINUTE };
const connection = vaultConnection();
const signed = publishedTarget(connection, { requestHash: hashOf(observe(connection)), ...fresh });

function withData(target: V1Secret, key: string, value: string): V1Secret {
  return { ...target, data: { ...target.data, [key]: Buffer.from(value).toString('base64') } };
}
function withAnnotation(target: V1Secret, key: string, value: string): V1Secret {
  const metadata = target.metadata ?? {};
  return { ...target, metadata: { ...metadata, annotations: { ...metadata.annotations, [key]: value } } };
}
const kind = (decision: Decision) => decision.kind;

describe('trust in the published token', () => {
  it.each<[string, V1Secret, Decision['kind']]>([
    ['should reuse a target Secret exactly as coffre signed it', signed, 'reuse'],
    [
      'should request a new token when the access token was replaced by hand (a planted token)',
      withData(signed, 'access_token', 'planted-by-a-tenant'),
      'request',
    ],
    [
      'should request a new token when expires-at was pushed back by hand (to suppress renewal)',
      withAnnotation(signed, EXPIRES_AT_ANNOTATION, new Date(now + 365 * 24 * 60 * MINUTE).toISOString()),
      'request',
    ],
    [
      'should request a new token when the signature was removed',
      withAnnotation(signed, 'coffre.dev/record-signature', ''),
      'request',
    ],
  ])('%s', (_title, target, expected) => {
    expect(kind(decide(observe(connection, { target }), env))).toBe(expected);
  });

  it('should not trust a target signed with another key (a copied Secret, a lost key)', () => {
    const other = { ...env, recordKey: createRecordKey(new Uint8Array(32).fill(42)) };
    expect(kind(decide(observe(connection, { target: signed }), other))).toBe('request');
  });

  it('should not trust a target signed for another connection (a Secret copied across)', () => {
    const twin = vaultConnection();
    twin.metadata.uid = 'uid-of-another-connection';
    const copied = {
      ...signed,
      metadata: {
        ...signed.metadata,
        ownerReferences: [{ ...signed.metadata?.ownerReferences?.[0], uid: 'uid-of-another-connection' }],
      },
    } as V1Secret;
    expect(kind(decide(observe(twin, { target: copied }), env))).toBe('request');
  });

  it('should never share a reused token outside the namespace', () => {
    const decision = decide(observe(connection, { target: signed }), env);
    expect(decision.kind === 'reuse' && decision.share?.request.partition).toBe('payments');
  });

  it('should request tokens in the namespace partition', () => {
    const decision = decide(observe(connection), env);
    expect(decision.kind === 'request' && decision.token.plan.request.partition).toBe('payments');
  });
});

describe('bounds', () => {
  const data = new Map([
    ['access_token', secret('x'.repeat(100_000))],
    ['token_type', secret('Bearer')],
  ]);
  const templated = (template: Record<string, string>) =>
    vaultConnection({ ...auth0Spec, target: { template: { data: template } } });

  it('should report TemplateTooLarge and write nothing when the template copies a token past 1 MiB', () => {
    const vc = templated({ bomb: '{{ .access_token }}'.repeat(20) });
    expect(planTargetWrite(observe(vc), data, {}, recordKey)).toMatchObject({
      kind: 'refuse',
      outcome: { reason: 'TemplateTooLarge' },
    });
  });

  it('should stop rendering a template bomb at the limit instead of building it', () => {
    // 100,000 copies of a 100 KB token would be 10 GB: the render must stop near 1 MiB.
    const vc = templated({ bomb: '{{.access_token}}'.repeat(100_000) });
    const started = process.memoryUsage().heapUsed;
    const write = planTargetWrite(observe(vc), data, {}, recordKey);
    expect(write.kind === 'refuse' && write.outcome.kind === 'blocked' && write.outcome.reason).toBe(
      'TemplateTooLarge',
    );
    expect(process.memoryUsage().heapUsed - started).toBeLessThan(256 * MAX_TARGET_DATA_BYTES);
  });

  it('should publish data just under the limit', () => {
    const vc = templated({ a: '{{ .access_token }}'.repeat(10) });
    expect(planTargetWrite(observe(vc), data, {}, recordKey).kind).toBe('write');
  });

  it('should put a keyed value, not a hash of the data, on restarted workloads', () => {
    const before = publishedTarget(connection, { requestHash: 'h', ...fresh }, 'token-1');
    const write = planTargetWrite(
      observe(connection, { target: before }),
      new Map([
        ['access_token', secret('token-2')],
        ['token_type', secret('Bearer')],
      ]),
      // New credentials: a new request, which restarts workloads.
      { requestHash: 'h2', ...fresh },
      recordKey,
    );
    expect(write.kind).toBe('write');
    if (write.kind !== 'write') return;
    expect(write.restartFor).toMatch(/^[0-9a-f]{16}$/);
    expect(write.secret.metadata?.annotations?.['coffre.dev/data-hash']).not.toContain(write.restartFor);
  });

  it.each<[string, number, number]>([
    ['should keep a short list whole', 3, 3],
    ['should keep a list of exactly the limit whole', 64, 64],
    ['should cap a long list and say how many were left out', 10_000, 64],
  ])('status lists: %s', (_title, length, expected) => {
    const list = Array.from({ length }, (_, i) => `scope:${i}`);
    const capped = capList(list);
    expect(capped).toHaveLength(expected);
    if (length > 64) expect(capped.at(-1)).toBe(`(+${length - 63} more)`);
  });

  it('should record granted scopes only up to the annotation budget', () => {
    const scopes = Array.from({ length: 20_000 }, (_, i) => `read:resource-${i}`);
    const recorded = recordedScopes(scopes);
    expect(recorded.join(' ').length).toBeLessThanOrEqual(MAX_RECORDED_SCOPES_BYTES);
    expect(recorded).toEqual(scopes.slice(0, recorded.length));
    expect(recordedScopes(['a', 'b'])).toEqual(['a', 'b']);
  });
});
