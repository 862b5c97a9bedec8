import { describe, expect, it } from 'vitest';
import { FORCE_REFRESH_ANNOTATION } from '../../../src/api/v1alpha1/metadata-keys.ts';
import { CoffreError } from '../../../src/errors.ts';
import { OAuthError } from '../../../src/oauth/index.ts';
import { secret } from '../../../src/secrets/secret-value.ts';
import {
  decide,
  dueOnArrival,
  judgeFailure,
  judgeToken,
  planTargetWrite,
  publishesExpiringTokens,
  strictScopesOf,
  restartWanted,
  retryDigest,
  wakeAfter,
  type Decision,
  type TokenToRequest,
} from '../../../src/reconcilers/vault-connection/policy.ts';
import { seedHash } from '../../../src/reconcilers/vault-connection/state-secret.ts';
import type { RetryState } from '../../../src/reconcilers/vault-connection/gather.ts';
import {
  auth0Spec,
  clientConfig,
  credentials,
  env,
  recordKey,
  hashOf,
  now,
  observe,
  publishedTarget,
  token,
  vaultConnection,
  type ObservedOptions,
} from './support/connections.ts';
import type { Observed } from '../../../src/reconcilers/vault-connection/gather.ts';
import type { VaultConnectionSpec } from '../../../src/api/v1alpha1/vault-connection.ts';
import type { PublishedRecord } from '../../../src/reconcilers/vault-connection/target-secret.ts';

const MINUTE = 60_000;
const connection = vaultConnection();
/** Issued 10 minutes ago for an hour: renewal is due in about 30 minutes. */
const fresh = { issuedAt: now - 10 * MINUTE, expiresAt: now + 50 * MINUTE };
/** Issued 50 minutes ago for an hour: inside its renewal window (the last third). */
const due = { issuedAt: now - 50 * MINUTE, expiresAt: now + 10 * MINUTE };

/** A target published for the snapshot's current request. */
function publishedFor(spec: VaultConnectionSpec, record: { issuedAt: number; expiresAt: number }, more = {}) {
  const vc = vaultConnection(spec);
  return publishedTarget(vc, { requestHash: hashOf(observe(vc)), ...record, ...more });
}

function retryState(observed: Observed, overrides: Partial<RetryState> = {}): RetryState {
  return {
    failures: 1,
    failedAt: now - 1000,
    notBefore: now + 30_000,
    requestDigest: retryDigest(observed.connection, hashOf(observed), recordKey),
    reason: 'EndpointUnreachable',
    message: 'connect ECONNREFUSED',
    ...overrides,
  };
}

function summary(decision: Decision): string {
  switch (decision.kind) {
    case 'report':
    case 'wait':
      return `${decision.kind} ${'reason' in decision.outcome ? decision.outcome.reason : decision.outcome.kind}`;
    case 'request':
      return `request${decision.token.force ? ' (forced)' : ''}`;
    default:
      return decision.kind;
  }
}

describe('decide', () => {
  const otherUid = {
    ...publishedFor(auth0Spec, fresh),
    metadata: {
      ...publishedFor(auth0Spec, fresh).metadata,
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'someone-else', controller: true },
      ],
    },
  };
  it.each<[string, VaultConnectionSpec, ObservedOptions, string]>([
    [
      'should report InvalidSpec when the spec does not validate',
      { ...auth0Spec, auth0: { domain: '', scopes: [] } },
      {},
      'report invalid-spec',
    ],
    [
      'should refuse a credentialsRef to another namespace',
      { ...auth0Spec, credentialsRef: { name: 'm2m', namespace: 'other' } },
      {},
      'report CrossNamespaceReference',
    ],
    [
      'should report TargetSecretConflict when the target Secret is not the connection’s',
      auth0Spec,
      { target: otherUid },
      'report TargetSecretConflict',
    ],
    [
      'should report SecretNotFound when the credentials Secret is missing',
      auth0Spec,
      { sources: { credentials: { found: false }, oauthClient: undefined } },
      'report SecretNotFound',
    ],
    [
      'should report NoCredentialsRef when neither credentialsRef nor oauthClientRef is set',
      { type: 'auth0', auth0: { domain: 'acme.eu.auth0.com' } },
      { sources: { credentials: undefined, oauthClient: undefined } },
      'report NoCredentialsRef',
    ],
    [
      'should report NoCredentialsRef when an oauth2 connection names no OAuthClient',
      { type: 'oauth2', credentialsRef: { name: 'm2m' }, oauth2: {} },
      {},
      'report NoCredentialsRef',
    ],
    [
      'should report KeysMissing when the credentials lack a key',
      auth0Spec,
      { sources: { credentials: credentials({ clientId: 'a' }), oauthClient: undefined } },
      'report KeysMissing',
    ],
    [
      'should report OAuthClientNotFound when the named client does not exist',
      { type: 'oauth2', oauthClientRef: { name: 'calendar' }, oauth2: {} },
      { sources: { credentials: undefined, oauthClient: { found: false } } },
      'report OAuthClientNotFound',
    ],
    [
      'should report OAuthClientEmpty while the client has no credentials',
      { type: 'oauth2', oauthClientRef: { name: 'calendar' }, oauth2: {} },
      {
        sources: {
          credentials: undefined,
          oauthClient: {
            found: true,
            config: { kind: 'empty', reason: 'SecretNotFound', message: 'Secret calendar not found' },
          },
        },
      },
      'report OAuthClientEmpty',
    ],
    [
      'should publish static credentials for an apiKey connection',
      { type: 'apiKey', credentialsRef: { name: 'maps' } },
      { sources: { credentials: credentials({ apiKey: 'k' }), oauthClient: undefined } },
      'publish-static',
    ],
    ['should request a token when none is published', auth0Spec, {}, 'request'],
    [
      'should reuse the published token when it is valid beyond the renewal window',
      auth0Spec,
      { target: publishedFor(auth0Spec, fresh) },
      'reuse',
    ],
    [
      'should request a token when the published one is inside its renewal window',
      auth0Spec,
      { target: publishedFor(auth0Spec, due) },
      'request',
    ],
    [
      'should request a token when the request hash changed (new credentials)',
      auth0Spec,
      {
        target: publishedFor(auth0Spec, fresh),
        sources: {
          credentials: credentials({ clientId: 'client-a', clientSecret: 'rotated' }),
          oauthClient: undefined,
        },
      },
      'request',
    ],
    [
      'should request a token when the spec changed (new scopes)',
      { ...auth0Spec, auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users', 'update:users'] } },
      { target: publishedFor(auth0Spec, fresh) },
      'request',
    ],
  ])('%s', (_title, spec, options, expected) => {
    expect(summary(decide(observe(vaultConnection(spec), options), env))).toBe(expected);
  });

  it('should hand the published token to the shared cache when reusing it', () => {
    const decision = decide(observe(connection, { target: publishedFor(auth0Spec, fresh) }), env);
    expect(decision).toMatchObject({
      kind: 'reuse',
      share: { token: { tokenType: 'Bearer', issuedAt: fresh.issuedAt, expiresAt: fresh.expiresAt } },
    });
    expect(decision.kind === 'reuse' && decision.share?.token.accessToken.reveal()).toBe('token-1');
    expect(decision.kind === 'reuse' && decision.refreshAt).toBeGreaterThan(now);
  });

  it('should ask the shared cache for a token outliving the renewal window plus a second', () => {
    const decision = decide(observe(connection, { target: publishedFor(auth0Spec, due) }), env);
    // An hour's lifetime, renewed in its last 33%.
    expect(decision.kind === 'request' && decision.token.minTtlMs).toBe(0.33 * 60 * MINUTE + 1000);
  });

  describe('force-refresh', () => {
    it.each<[string, string, string | undefined, string]>([
      ['should request a token, bypassing the cache, for a new value', '2', '1', 'request (forced)'],
      ['should reuse the token when the value was handled', '1', '1', 'reuse'],
      ['should ignore an empty value', '', undefined, 'reuse'],
    ])('%s', (_title, value, handled, expected) => {
      const vc = vaultConnection(auth0Spec, { [FORCE_REFRESH_ANNOTATION]: value });
      const target = publishedTarget(vc, {
        requestHash: hashOf(observe(vc)),
        ...fresh,
        ...(handled === undefined ? {} : { forceRefreshHandled: handled }),
      });
      expect(summary(decide(observe(vc, { target }), env))).toBe(expected);
    });
  });

  describe('after a failed request', () => {
    const observed = observe(connection);
    it.each<[string, Partial<RetryState>, ObservedOptions, string, number | undefined]>([
      ['should wait until notBefore after a retryable failure', {}, {}, 'wait EndpointUnreachable', 30_000],
      [
        'should wait for a change, with no wake-up, after a terminal failure',
        { notBefore: Number.POSITIVE_INFINITY, reason: 'InvalidClient' },
        {},
        'wait InvalidClient',
        undefined,
      ],
      ['should request again once notBefore has passed', { notBefore: now }, {}, 'request', undefined],
      [
        'should request at once when the request changed since the failure',
        { requestDigest: 'an older request' },
        {},
        'request',
        undefined,
      ],
    ])('%s', (_title, retry, options, expected, requeueAfterMs) => {
      const decision = decide(observe(connection, { ...options, retry: retryState(observed, retry) }), env);
      expect(summary(decision)).toBe(expected);
      if (decision.kind === 'wait') expect(decision.requeueAfterMs).toBe(requeueAfterMs);
    });

    it('should request at once for a new force-refresh value while waiting', () => {
      const vc = vaultConnection(auth0Spec, { [FORCE_REFRESH_ANNOTATION]: 'now' });
      const decision = decide(observe(vc, { retry: retryState(observe(vc)) }), env);
      expect(summary(decision)).toBe('request (forced)');
    });

    it('should reuse a still valid token even while a failure is recorded', () => {
      const decision = decide(
        observe(connection, { target: publishedFor(auth0Spec, fresh), retry: retryState(observed) }),
        env,
      );
      expect(decision.kind).toBe('reuse');
    });
  });

  describe('refresh tokens', () => {
    const spec: VaultConnectionSpec = {
      type: 'oauth2',
      oauthClientRef: { name: 'calendar' },
      credentialsRef: { name: 'calendar-user' },
      oauth2: { grant: 'refresh_token', scopes: ['calendar.read'] },
    };
    const vc = vaultConnection(spec);
    const sources = {
      credentials: credentials({ refreshToken: 'seed' }),
      oauthClient: {
        found: true as const,
        config: { kind: 'ready' as const, config: clientConfig, secretName: 'x' },
      },
    };
    const grantOf = (decision: Decision) =>
      decision.kind === 'request' && decision.token.plan.request.grant.type === 'refresh_token'
        ? decision.token.plan.request.grant.refreshToken.reveal()
        : undefined;

    it('should start from the seed in the credentials Secret', () => {
      expect(grantOf(decide(observe(vc, { sources }), env))).toBe('seed');
    });

    it('should prefer a rotation not yet persisted over the seed', () => {
      const pendingRotation = { refreshToken: secret('rotated-1'), seedHash: seedHash(vc, secret('seed')) };
      expect(grantOf(decide(observe(vc, { sources, pendingRotation }), env))).toBe('rotated-1');
    });

    it('should drop rotations of an older seed (re-authorisation)', () => {
      const pendingRotation = {
        refreshToken: secret('rotated-1'),
        seedHash: seedHash(vc, secret('old seed')),
      };
      expect(grantOf(decide(observe(vc, { sources, pendingRotation }), env))).toBe('seed');
    });
  });

  it.each<[string, VaultConnectionSpec, ObservedOptions, boolean]>([
    ['should report an auth0 connection as expiring', auth0Spec, {}, true],
    [
      'should report an apiKey connection as not expiring',
      { type: 'apiKey', credentialsRef: { name: 'maps' } },
      { sources: { credentials: credentials({ apiKey: 'k' }), oauthClient: undefined } },
      false,
    ],
    [
      'should report a Slack bot token as not expiring',
      { type: 'slack', credentialsRef: { name: 'slack' } },
      { sources: { credentials: credentials({ botToken: 'xoxb-1' }), oauthClient: undefined } },
      false,
    ],
  ])('%s', (_title, spec, options, expiring) => {
    const vc = vaultConnection(spec);
    expect(publishesExpiringTokens(vc, decide(observe(vc, options), env))).toBe(expiring);
  });
});

function requestFor(observed: Observed): TokenToRequest {
  const decision = decide(observed, env);
  if (decision.kind !== 'request') throw new Error(`expected a request, got ${decision.kind}`);
  return decision.token;
}

describe('judgeToken', () => {
  const strict: VaultConnectionSpec = {
    ...auth0Spec,
    auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users'], strictScopes: true },
  };
  const wider = token({ grantedScopes: ['read:users', 'delete:users'] });

  it.each<[string, VaultConnectionSpec, ObservedOptions, typeof wider, string, boolean]>([
    [
      'should report ScopesExceeded when strictScopes and the grant is wider',
      strict,
      {},
      wider,
      'refuse ScopesExceeded',
      true,
    ],
    [
      'should publish, with a warning, when the grant is wider without strictScopes',
      auth0Spec,
      {},
      wider,
      'publish',
      true,
    ],
    [
      'should not warn again for the same extra scopes',
      auth0Spec,
      { target: publishedFor(auth0Spec, due, { grantedScopes: ['read:users', 'delete:users'] }) },
      wider,
      'publish',
      false,
    ],
    [
      'should still refuse, without a new warning, when strictScopes and the same extra scopes',
      strict,
      { target: publishedFor(strict, due, { grantedScopes: ['read:users', 'delete:users'] }) },
      wider,
      'refuse ScopesExceeded',
      false,
    ],
    [
      'should publish without a warning when the grant is what was asked',
      strict,
      {},
      token({ grantedScopes: ['read:users'] }),
      'publish',
      false,
    ],
    ['should publish when the server says nothing of the scopes', strict, {}, token(), 'publish', false],
  ])('%s', (_title, spec, options, granted, expected, warns) => {
    const observed = observe(vaultConnection(spec), options);
    const verdict = judgeToken(observed, requestFor(observed), granted, recordKey);
    const next =
      verdict.next.kind === 'refuse' && 'reason' in verdict.next.outcome
        ? `refuse ${verdict.next.outcome.reason}`
        : verdict.next.kind;
    expect(next).toBe(expected);
    expect(verdict.scopesWarning !== undefined).toBe(warns);
    if (warns) expect(verdict.scopesWarning).toContain('delete:users');
  });

  it('should record what the token was requested with, and the handled force-refresh value', () => {
    const vc = vaultConnection(auth0Spec, { [FORCE_REFRESH_ANNOTATION]: '3' });
    const observed = observe(vc);
    const request = requestFor(observed);
    const verdict = judgeToken(observed, request, token({ grantedScopes: ['read:users'] }), recordKey);
    expect(verdict.next).toMatchObject({
      kind: 'publish',
      record: {
        requestHash: request.requestHash,
        issuedAt: now,
        expiresAt: now + 3_600_000,
        grantedScopes: ['read:users'],
        forceRefreshHandled: '3',
      },
    });
    expect(verdict.next.kind === 'publish' && verdict.next.data.get('access_token')?.reveal()).toBe(
      'token-2',
    );
  });

  it.each<[string, VaultConnectionSpec, ObservedOptions, string | undefined]>([
    [
      'should persist a rotated refresh token of a refresh_token grant',
      {
        type: 'oauth2',
        oauthClientRef: { name: 'calendar' },
        credentialsRef: { name: 'calendar-user' },
        oauth2: { grant: 'refresh_token' },
      },
      {
        sources: {
          credentials: credentials({ refreshToken: 'seed' }),
          oauthClient: { found: true, config: { kind: 'ready', config: clientConfig, secretName: 'x' } },
        },
      },
      'rotated',
    ],
    ['should not persist a refresh token sent with client credentials', auth0Spec, {}, undefined],
  ])('%s', (_title, spec, options, persisted) => {
    const observed = observe(vaultConnection(spec), options);
    const verdict = judgeToken(
      observed,
      requestFor(observed),
      token({ refreshToken: secret('rotated') }),
      recordKey,
    );
    expect(verdict.persist?.reveal()).toBe(persisted);
  });
});

describe('judgeFailure', () => {
  const observed = observe(connection);
  const request = requestFor(observed);
  it.each<[string, CoffreError, number, number, number | undefined]>([
    ['should back off 1–2 s after a first retryable failure', new OAuthError('network', 'down'), 0, 0, 1000],
    ['should jitter the backoff upwards', new OAuthError('network', 'down'), 0, 0.5, 1500],
    ['should double the backoff with each failure', new OAuthError('server_error', '503'), 3, 0, 8000],
    ['should cap the backoff at 5 minutes', new OAuthError('timeout', 'slow'), 30, 0.999, 299_850],
    [
      'should honour Retry-After beyond the backoff',
      new OAuthError('rate_limited', '429', { retryAfterMs: 90_000 }),
      0,
      0,
      90_000,
    ],
    [
      'should not wait more than 6 hours for a Retry-After',
      new OAuthError('rate_limited', '429', { retryAfterMs: 48 * 3_600_000 }),
      0,
      0,
      6 * 3_600_000,
    ],
    [
      'should wait for a change after a terminal error',
      new OAuthError('invalid_client', 'bad'),
      0,
      0,
      undefined,
    ],
  ])('%s', (_title, error, previousFailures, random, delay) => {
    const retry = previousFailures === 0 ? undefined : retryState(observed, { failures: previousFailures });
    const verdict = judgeFailure({ ...observed, retry }, request, error, now, () => random);
    expect(verdict.requeueAfterMs).toBe(delay);
    expect(verdict.retry).toEqual({
      failures: previousFailures + 1,
      failedAt: now,
      notBefore: delay === undefined ? Number.POSITIVE_INFINITY : now + delay,
      requestDigest: request.requestDigest,
      reason: verdict.reason,
      message: error.message,
    });
    expect(verdict.outcome).toEqual({
      kind: 'token-failed',
      reason: verdict.reason,
      message: error.message,
      requestHash: request.requestHash,
    });
  });

  it('should name the reason by the error code', () => {
    expect(judgeFailure(observed, request, new OAuthError('invalid_target', 'x'), now, () => 0).reason).toBe(
      'InvalidTarget',
    );
  });
});

describe('planTargetWrite', () => {
  const record = { requestHash: 'h', issuedAt: now, expiresAt: now + 3_600_000 };
  const data = new Map([
    ['access_token', secret('token-2')],
    ['token_type', secret('Bearer')],
  ]);
  const templated = (template: NonNullable<VaultConnectionSpec['target']>['template']) =>
    vaultConnection({ ...auth0Spec, target: { template } });

  it('should write a new target, without restarting workloads', () => {
    expect(planTargetWrite(observe(connection), data, record, recordKey)).toMatchObject({
      kind: 'write',
      restartFor: undefined,
      secret: { metadata: { name: 'auth0-management-token', namespace: 'payments' }, type: 'Opaque' },
    });
  });

  it('should not write when the target already says the same', () => {
    const target = publishedTarget(connection, record, 'token-2');
    expect(planTargetWrite(observe(connection, { target }), data, record, recordKey)).toEqual({
      kind: 'unchanged',
    });
  });

  it.each<[string, VaultConnectionSpec['rolloutRestartPolicy'], string, boolean]>([
    ['should restart workloads when new credentials changed the data', undefined, 'h0', true],
    ['should not restart workloads for a routine renewal by default', undefined, 'h', false],
    ['should not restart workloads for a renewal under OnCredentialChange', 'OnCredentialChange', 'h', false],
    ['should restart workloads for a renewal under OnEveryChange', 'OnEveryChange', 'h', true],
  ])('%s', (_title, policy, previousRequest, restarts) => {
    const vc = vaultConnection({
      ...auth0Spec,
      ...(policy === undefined ? {} : { rolloutRestartPolicy: policy }),
    });
    const target = publishedTarget(vc, { ...record, requestHash: previousRequest }, 'token-1');
    const write = planTargetWrite(observe(vc, { target }), data, record, recordKey);
    expect(write.kind).toBe('write');
    if (write.kind === 'write') expect(write.restartFor !== undefined).toBe(restarts);
  });

  it.each<[string, PublishedRecord, PublishedRecord, VaultConnectionSpec['rolloutRestartPolicy'], boolean]>([
    [
      'should not restart for the same data',
      { dataHash: 'd', requestHash: 'a' },
      { dataHash: 'd', requestHash: 'b' },
      'OnEveryChange',
      false,
    ],
    [
      'should restart static data that changed (credentials or template)',
      { dataHash: 'd1' },
      { dataHash: 'd2' },
      undefined,
      true,
    ],
    [
      'should restart when a token type became static',
      { dataHash: 'd1', requestHash: 'a' },
      { dataHash: 'd2' },
      undefined,
      true,
    ],
    [
      'should restart for a spec change (a new request hash)',
      { dataHash: 'd1', requestHash: 'a' },
      { dataHash: 'd2', requestHash: 'b' },
      undefined,
      true,
    ],
    [
      'should not restart for a renewal',
      { dataHash: 'd1', requestHash: 'a' },
      { dataHash: 'd2', requestHash: 'a' },
      undefined,
      false,
    ],
  ])('restartWanted: %s', (_title, previous, next, policy, expected) => {
    const vc = vaultConnection({
      ...auth0Spec,
      ...(policy === undefined ? {} : { rolloutRestartPolicy: policy }),
    });
    expect(restartWanted(vc, previous, next)).toBe(expected);
  });

  it('should not restart workloads when only the annotations changed', () => {
    const target = publishedTarget(connection, record, 'token-2');
    const write = planTargetWrite(
      observe(connection, { target }),
      data,
      { ...record, forceRefreshHandled: '1' },
      recordKey,
    );
    expect(write).toMatchObject({ kind: 'write', restartFor: undefined });
  });

  it('should report TemplateError for a template naming an unknown key', () => {
    const vc = templated({ data: { Authorization: 'Bearer {{ .refresh_token }}' } });
    expect(planTargetWrite(observe(vc), data, record, recordKey)).toMatchObject({
      kind: 'refuse',
      outcome: { kind: 'blocked', reason: 'TemplateError', credentials: 'present' },
    });
  });

  it('should refuse to change the type of an existing Secret', () => {
    const target = publishedTarget(connection, record, 'token-1');
    const vc = templated({ type: 'kubernetes.io/basic-auth', data: { password: '{{ .access_token }}' } });
    expect(planTargetWrite(observe(vc, { target }), data, record, recordKey)).toMatchObject({
      kind: 'refuse',
      outcome: { reason: 'TemplateError' },
    });
  });
});

describe('wakeAfter', () => {
  const valid = { dataHash: 'h', issuedAt: now - 10 * MINUTE, expiresAt: now + 50 * MINUTE };
  it.each<[string, Parameters<typeof wakeAfter>[0], number | undefined]>([
    [
      'should wake at the renewal of a valid token, not at its expiry',
      {
        outcome: { kind: 'token-valid' },
        record: valid,
        refreshAt: now + 30 * MINUTE,
        requeueAfterMs: undefined,
        now,
      },
      30 * MINUTE,
    ],
    [
      'should wake at once when the renewal is overdue',
      { outcome: { kind: 'token-valid' }, record: valid, refreshAt: now - 1, requeueAfterMs: undefined, now },
      0,
    ],
    [
      'should wake after the backoff when it ends before the token expires',
      {
        outcome: { kind: 'token-failed', reason: 'ServerError', message: '' },
        record: valid,
        refreshAt: undefined,
        requeueAfterMs: 4000,
        now,
      },
      4000,
    ],
    [
      'should wake when the published token expires, to report Expired on time',
      {
        outcome: { kind: 'token-failed', reason: 'RateLimited', message: '' },
        record: valid,
        refreshAt: undefined,
        requeueAfterMs: 3 * 3_600_000,
        now,
      },
      50 * MINUTE,
    ],
    [
      'should wake at expiry after a terminal failure',
      {
        outcome: { kind: 'token-failed', reason: 'InvalidClient', message: '' },
        record: valid,
        refreshAt: undefined,
        requeueAfterMs: undefined,
        now,
      },
      50 * MINUTE,
    ],
    [
      'should not wake for a token that has expired already',
      {
        outcome: { kind: 'token-failed', reason: 'InvalidClient', message: '' },
        record: { ...valid, expiresAt: now },
        refreshAt: undefined,
        requeueAfterMs: undefined,
        now,
      },
      undefined,
    ],
    [
      'should not wake for static credentials',
      {
        outcome: { kind: 'static-published' },
        record: { dataHash: 'h' },
        refreshAt: undefined,
        requeueAfterMs: undefined,
        now,
      },
      undefined,
    ],
  ])('%s', (_title, input, expected) => {
    expect(wakeAfter(input)).toBe(expected);
  });
});

describe('dueOnArrival', () => {
  const askedAt = now;
  it.each<[string, Parameters<typeof token>[0], boolean, boolean]>([
    [
      'should replace a shared token issued earlier and already due here',
      { issuedAt: now - 55 * MINUTE, expiresAt: now + 5 * MINUTE },
      false,
      true,
    ],
    [
      'should keep a shared token issued earlier that is not due here',
      { issuedAt: now - 5 * MINUTE, expiresAt: now + 55 * MINUTE },
      false,
      false,
    ],
    ['should keep a token minted for this request', { issuedAt: now, expiresAt: now + 60_000 }, false, false],
    ['should keep a forced token', { issuedAt: now - 55 * MINUTE, expiresAt: now + 5 * MINUTE }, true, false],
    [
      'should keep a token without expiry',
      { issuedAt: now - 55 * MINUTE, expiresAt: undefined },
      false,
      false,
    ],
  ])('%s', (_title, overrides, force, expected) => {
    const t = token(overrides);
    if (overrides?.expiresAt === undefined) delete t.expiresAt;
    expect(dueOnArrival(connection, t, askedAt, now, force)).toBe(expected);
  });
});

describe('strictScopesOf', () => {
  it.each([
    ['should read auth0 settings', { type: 'auth0', auth0: { domain: 'a.b.c', strictScopes: true } }, true],
    ['should read oauth2 settings', { type: 'oauth2', oauth2: { strictScopes: true } }, true],
    [
      'should read shopify settings',
      { type: 'shopify', shopify: { shopDomain: 'acme.myshopify.com', strictScopes: true } },
      true,
    ],
    [
      'should read zendesk settings',
      { type: 'zendesk', zendesk: { subdomain: 'acme', strictScopes: true } },
      true,
    ],
    ['should default to false', { type: 'zendesk', zendesk: { subdomain: 'acme' } }, false],
    ['should be false for a type without the field', { type: 'slack' }, false],
  ] as [string, VaultConnectionSpec, boolean][])('%s', (_title, spec, expected) => {
    expect(strictScopesOf(vaultConnection(spec))).toBe(expected);
  });
});
