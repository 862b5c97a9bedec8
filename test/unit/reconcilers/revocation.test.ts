// Revocation on delete, the pure half: whether it is in effect, which tokens go, which are left for
// connections that may share them, when the finalizer is released, and which failures are retried.
import { describe, expect, it } from 'vitest';
import type { OAuthClient, VaultConnection } from '../../../src/api/v1alpha1/resources.ts';
import type { VaultConnectionSpec } from '../../../src/api/v1alpha1/vault-connection.ts';
import { CoffreError } from '../../../src/errors.ts';
import { OAuthError } from '../../../src/oauth/index.ts';
import {
  planRevocation,
  revocationDeadline,
  revocationRetryable,
  REVOCATION_TIMEOUT_MS,
  revokeOnDelete,
} from '../../../src/reconcilers/vault-connection/revocation.ts';
import { secret, type SecretValue } from '../../../src/secrets/secret-value.ts';
import type { Observed } from '../../../src/reconcilers/vault-connection/gather.ts';
import { now, observe, publishedTarget, recordKey, vaultConnection } from './support/connections.ts';

const onClient: VaultConnectionSpec = {
  type: 'oauth2',
  oauthClientRef: { name: 'calendar' },
  oauth2: { audience: 'https://api/' },
};
const client = (revoke?: boolean) =>
  ({
    metadata: { namespace: 'payments', name: 'calendar' },
    spec: {
      issuer: 'https://id.example/',
      clientId: 'c',
      ...(revoke === undefined ? {} : { revokeOnDelete: revoke }),
    },
  }) as OAuthClient;

function other(name: string, spec: VaultConnectionSpec, deleting = false): VaultConnection {
  const vc = vaultConnection(spec);
  return {
    ...vc,
    metadata: {
      ...vc.metadata,
      name,
      uid: `uid-${name}`,
      ...(deleting ? { deletionTimestamp: '2026-11-22T12:00:00Z' } : {}),
    },
  };
}

describe('revokeOnDelete', () => {
  it.each<[string, boolean | undefined, boolean | undefined, boolean]>([
    ['should be off by default', undefined, undefined, false],
    ["should follow the OAuthClient's default", undefined, true, true],
    ["should let the connection's own setting win over the client's", false, true, false],
    ['should be on when the connection says so', true, undefined, true],
  ])('%s', (_title, own, clientDefault, expected) => {
    const vc = vaultConnection({ ...onClient, ...(own === undefined ? {} : { revokeOnDelete: own }) });
    expect(revokeOnDelete(vc, client(clientDefault))).toBe(expected);
  });
});

describe('revocationDeadline', () => {
  it('should release the finalizer 30 s after the deletion', () => {
    const vc = other('x', onClient, true);
    expect(revocationDeadline(vc)).toBe(Date.parse('2026-11-22T12:00:00Z') + REVOCATION_TIMEOUT_MS);
  });
});

describe('planRevocation', () => {
  const vc = vaultConnection({ ...onClient, revokeOnDelete: true });
  const target = publishedTarget(vc, { requestHash: 'h', issuedAt: now, expiresAt: now + 60_000 }, 'at-1');
  const summary = (plan: ReturnType<typeof planRevocation>) => ({
    revoke: plan.revoke.map((t) => `${t.hint}=${t.token.reveal()}`),
    kept: plan.kept,
  });

  type Input = [Observed, SecretValue | undefined, VaultConnection[]];
  it.each<[string, Input, { revoke: string[]; kept: string[] }]>([
    [
      'should revoke the published access token and the refresh token',
      [observe(vc, { target }), secret('rt-seed'), [vc]],
      { revoke: ['access_token=at-1', 'refresh_token=rt-seed'], kept: [] },
    ],
    [
      'should keep the tokens when another connection uses the same OAuthClient',
      [observe(vc, { target }), undefined, [vc, other('two', onClient)]],
      { revoke: [], kept: ['tokens kept: connection two may share them'] },
    ],
    [
      'should revoke when the only other connection of the client is being deleted too',
      [observe(vc, { target }), undefined, [other('two', onClient, true)]],
      { revoke: ['access_token=at-1'], kept: [] },
    ],
    [
      'should ignore connections of other clients',
      [observe(vc, { target }), undefined, [other('two', { ...onClient, oauthClientRef: { name: 'crm' } })]],
      { revoke: ['access_token=at-1'], kept: [] },
    ],
    [
      'should not send a token coffre did not sign (planted in the target Secret)',
      [
        observe(vc, {
          target: {
            ...target,
            data: { ...target.data, access_token: Buffer.from('planted').toString('base64') },
          },
        }),
        undefined,
        [],
      ],
      { revoke: [], kept: ['no access token to revoke (none published, or renamed by the template)'] },
    ],
  ])('%s', (_title, [observed, seed, others], expected) => {
    expect(summary(planRevocation(observed, seed, others, recordKey))).toEqual(expected);
  });
});

describe('revocationRetryable', () => {
  it.each<[string, CoffreError, boolean]>([
    ['should retry a network failure', new OAuthError('network', 'down'), true],
    ['should retry a 503', new OAuthError('server_error', '503', { status: 503 }), true],
    ['should retry a 429', new OAuthError('rate_limited', '429', { status: 429 }), true],
    [
      'should not retry unsupported_token_type (a JWT the server cannot revoke)',
      new OAuthError('oauth_error', 'unsupported_token_type', { status: 400 }),
      false,
    ],
    ['should not retry invalid_client', new OAuthError('invalid_client', 'bad', { status: 401 }), false],
    ['should not retry a terminal error', new CoffreError('x', 'terminal', { retryable: false }), false],
  ])('%s', (_title, error, expected) => {
    expect(revocationRetryable(error)).toBe(expected);
  });
});
