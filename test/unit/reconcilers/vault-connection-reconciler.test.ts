// The VaultConnection reconciler's sequence — gather, policy, act, report — over in-memory fakes: what
// it writes, in which order, and what it asks of the token engine. The decisions themselves are tested
// as tables in vault-connection-policy.test.ts; the real API server in test/integration/operator/.
import type { V1Secret } from '@kubernetes/client-node';
import { OwnedSecretData } from '../../../src/kube/owned-secret-data.ts';
import { createRecordKey } from '../../../src/secrets/record-key.ts';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_LABEL } from '../../../src/api/v1alpha1/metadata-keys.ts';
import type { OAuthClient, VaultConnection } from '../../../src/api/v1alpha1/resources.ts';
import type { VaultConnectionSpec } from '../../../src/api/v1alpha1/vault-connection.ts';
import { createValidators } from '../../../src/api/validation.ts';
import { Store } from '../../../src/controller/store.ts';
import type { KubeObject, ReconcileResult } from '../../../src/controller/types.ts';
import { ReadYourWrites } from '../../../src/kube/read-your-writes.ts';
import { SecretReader } from '../../../src/kube/secret-reader.ts';
import type { TokenEngine, TokenRequest, TokenSet } from '../../../src/oauth/index.ts';
import { OAuthError } from '../../../src/oauth/index.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { createProviderRegistry } from '../../../src/providers/registry.ts';
import { VaultConnectionReconciler } from '../../../src/reconcilers/vault-connection/reconciler.ts';
import { TokenFlights } from '../../../src/reconcilers/vault-connection/token-flights.ts';
import { secret } from '../../../src/secrets/secret-value.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { FakeEvents, FakeKubePort } from './support/fake-kube.ts';

const HOUR = 3_600_000;

/** A token engine that answers from a script and records what it was asked. */
class ScriptedEngine implements Pick<TokenEngine, 'getToken' | 'seed'> {
  readonly asked: { request: TokenRequest; force: boolean | undefined }[] = [];
  readonly seeded: TokenSet[] = [];
  readonly #answers: (TokenSet | Error | Promise<TokenSet>)[];

  constructor(answers: (TokenSet | Error | Promise<TokenSet>)[]) {
    this.#answers = answers;
  }

  getToken(request: TokenRequest, options?: { force?: boolean }): Promise<TokenSet> {
    this.asked.push({ request, force: options?.force });
    const answer = this.#answers.shift();
    if (answer === undefined) return Promise.reject(new Error('no more scripted answers'));
    const settle = () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer));
    if (this.held === undefined) return settle();
    // On the wire until the test releases it.
    return this.held.then(settle);
  }

  /** While set, answers wait for this promise (a slow token endpoint). */
  held: Promise<void> | undefined;

  /** Adds an answer once the test knows it (e.g. one that arrives later on the fake clock). */
  script(answer: TokenSet | Error | Promise<TokenSet>): void {
    this.#answers.push(answer);
  }

  seed(_request: TokenRequest, token: TokenSet): void {
    this.seeded.push(token);
  }
}

function setup(
  spec: VaultConnectionSpec,
  answers: (TokenSet | Error | Promise<TokenSet>)[],
  clock = new FakeClock(),
  flights?: TokenFlights,
) {
  const port = new FakeKubePort();
  const events = new FakeEvents();
  const engine = new ScriptedEngine(answers);
  const connections = new Store<VaultConnection & KubeObject>();
  const owned = new Store<V1Secret & KubeObject>();
  const clients = new Store<OAuthClient & KubeObject>();
  const secretMetadata = new Store<KubeObject>();
  const connection = {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { namespace: 'payments', name: 'api', uid: 'uid-api', generation: 1, resourceVersion: '1' },
    spec,
  } as VaultConnection & KubeObject;
  connections.upsert(connection);
  port.objects.set('payments/api', connection);

  /** A Secret the connection or its client reads, in the API server and the metadata cache. */
  const addSecret = (name: string, values: Record<string, string>) => {
    const stored: V1Secret = {
      metadata: { namespace: 'payments', name, resourceVersion: String(port.secrets.size + 1) },
      data: Object.fromEntries(
        Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
    };
    port.secrets.set(`payments/${name}`, stored);
    secretMetadata.upsert({ metadata: { ...stored.metadata } });
  };

  const reconciler = new VaultConnectionReconciler({
    connections: new ReadYourWrites(connections, clock, { absentMeansGone: true }),
    clients,
    ownedSecrets: new ReadYourWrites(owned, clock, { absentMeansGone: false }),
    secrets: new SecretReader(port, secretMetadata),
    port,
    events,
    engine: engine as unknown as TokenEngine,
    providers: createProviderRegistry(),
    providersConfig: {
      slackApiBaseUrl: 'https://slack.com/api',
      shopifyBaseUrl: 'https://{shop}/admin',
      zendeskBaseUrl: 'https://{subdomain}.zendesk.com',
      twilioOAuthBaseUrl: 'https://oauth.twilio.com',
    },
    validators: createValidators(),
    clock,
    random: () => 0.5,
    recordKey: () => Promise.resolve(recordKey),
    ownedData: new OwnedSecretData(port),
    ...(flights === undefined ? {} : { flights }),
  });
  const reconcile = (): Promise<ReconcileResult | undefined> =>
    reconciler.reconcile(
      { namespace: 'payments', name: 'api' },
      { signal: new AbortController().signal, logger: silentLogger() },
    );
  /** The informers catch up with what was written. */
  const sync = () => {
    for (const stored of port.secrets.values())
      if (stored.metadata?.labels?.[MANAGED_BY_LABEL] !== undefined) owned.upsert(stored);
    const patched = port.objects.get('payments/api');
    if (patched !== undefined) connections.upsert(patched as VaultConnection & KubeObject);
  };
  return { port, events, engine, clients, clock, addSecret, reconcile, sync };
}

const auth0: VaultConnectionSpec = {
  type: 'auth0',
  credentialsRef: { name: 'm2m' },
  auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users'] },
};

function tokenAt(clock: FakeClock, overrides: Partial<TokenSet> = {}): TokenSet {
  return {
    accessToken: secret('access-1'),
    tokenType: 'Bearer',
    issuedAt: clock.now(),
    expiresAt: clock.now() + HOUR,
    grantedScopes: ['read:users'],
    ...overrides,
  };
}

const recordKey = createRecordKey(new Uint8Array(32).fill(3));

describe('VaultConnectionReconciler', () => {
  it('should publish a new token, report Ready and come back before it expires', async () => {
    const clock = new FakeClock();
    const world = setup(auth0, [tokenAt(clock)], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    const result = await world.reconcile();
    expect(world.port.writes).toEqual(['create payments/api-token']);
    // A token that comes at once: the first status is the outcome (two writes: the Secret, the status).
    expect(world.port.patches.map((p) => summary(p.status))).toEqual([
      [
        'Ready=True/TokenValid',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=False/TokenValid',
        'Stalled=False/TokenValid',
      ],
    ]);
    // Ready at once: the status says it, no Event (a third write per new connection).
    expect(world.events.summary).toEqual([]);
    // Renewed in the last third of its hour, a little earlier with jitter.
    expect(result?.requeueAfterMs).toBeGreaterThan(0.6 * HOUR);
    expect(result?.requeueAfterMs).toBeLessThanOrEqual(0.67 * HOUR);
  });

  it('should request and write nothing when it runs again while the token is valid', async () => {
    const clock = new FakeClock();
    const world = setup(auth0, [tokenAt(clock)], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    const first = await world.reconcile();
    world.sync();
    await clock.advance(60_000);
    const second = await world.reconcile();
    expect(world.engine.asked).toHaveLength(1);
    expect(world.port.writes).toHaveLength(1);
    expect(world.port.patches).toHaveLength(1);
    expect(world.engine.seeded.map((t) => t.accessToken.reveal())).toEqual(['access-1']);
    expect(second?.requeueAfterMs).toBe((first?.requeueAfterMs ?? 0) - 60_000);
  });

  it('should persist a rotated refresh token before publishing the new access token', async () => {
    const clock = new FakeClock();
    const spec: VaultConnectionSpec = {
      type: 'oauth2',
      oauthClientRef: { name: 'calendar' },
      credentialsRef: { name: 'user' },
      oauth2: { grant: 'refresh_token' },
    };
    const world = setup(spec, [tokenAt(clock, { refreshToken: secret('rotated-1') })], clock);
    world.addSecret('user', { refreshToken: 'seed' });
    world.addSecret('calendar', { clientSecret: 's' });
    world.clients.upsert({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { namespace: 'payments', name: 'calendar', uid: 'uid-calendar' },
      spec: { issuer: 'https://accounts.example.com/', clientId: 'c', clientSecretRef: { name: 'calendar' } },
    });
    await world.reconcile();
    expect(world.port.writes).toEqual(['create payments/api-coffre-state', 'create payments/api-token']);
    const state = world.port.secrets.get('payments/api-coffre-state');
    expect(Buffer.from(state?.data?.refresh_token ?? '', 'base64').toString()).toBe('rotated-1');
  });

  it('should free its worker while the token is on the wire, persist a rotation on arrival, publish when woken', async () => {
    const clock = new FakeClock();
    const woken: string[] = [];
    const flights = new TokenFlights({ perHost: 4, wake: (id) => woken.push(id), now: () => clock.now() });
    const spec: VaultConnectionSpec = {
      type: 'oauth2',
      oauthClientRef: { name: 'calendar' },
      credentialsRef: { name: 'user' },
      oauth2: { grant: 'refresh_token' },
    };
    const world = setup(spec, [tokenAt(clock, { refreshToken: secret('rotated-1') })], clock, flights);
    world.addSecret('user', { refreshToken: 'seed' });
    world.addSecret('calendar', { clientSecret: 's' });
    world.clients.upsert({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { namespace: 'payments', name: 'calendar', uid: 'uid-calendar' },
      spec: { issuer: 'https://accounts.example.com/', clientId: 'c', clientSecretRef: { name: 'calendar' } },
    });
    let release: () => void = () => undefined;
    world.engine.held = new Promise((resolve) => {
      release = resolve;
    });
    // The reconcile returns at once, without a write; it comes back when a progress note is due.
    expect(await world.reconcile()).toEqual({ requeueAfterMs: 1000 });
    // Another event for the connection meanwhile: the same request, not a second one.
    await clock.advance(400);
    expect(await world.reconcile()).toEqual({ requeueAfterMs: 600 });
    expect(world.engine.asked).toHaveLength(1);
    expect(world.port.writes).toEqual([]);
    expect(world.port.patches).toHaveLength(0);
    // A second on the wire: Reconciling=True says so, once; then it waits to be woken.
    await clock.advance(600);
    expect(await world.reconcile()).toBeUndefined();
    world.sync();
    expect(await world.reconcile()).toBeUndefined();
    expect(world.port.patches.map((p) => summary(p.status))).toEqual([
      ['Ready=Unknown/Reconciling', 'Reconciling=True/Reconciling', 'Stalled=False/Reconciling'],
    ]);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // The rotation is written before the connection is woken, without waiting for a worker.
    expect(world.port.writes).toEqual(['create payments/api-coffre-state']);
    expect(woken).toEqual(['payments/api']);

    world.sync();
    const result = await world.reconcile();
    expect(world.port.writes).toEqual(['create payments/api-coffre-state', 'create payments/api-token']);
    expect(world.engine.asked).toHaveLength(1);
    // Ready after a slow first token is no more news than Ready at once: no Event.
    expect(world.events.summary).toEqual([]);
    expect(result?.requeueAfterMs).toBeGreaterThan(0);
  });

  it('should keep a rotation whose write failed, and start from it next time', async () => {
    const clock = new FakeClock();
    const spec: VaultConnectionSpec = {
      type: 'oauth2',
      oauthClientRef: { name: 'calendar' },
      credentialsRef: { name: 'user' },
      oauth2: { grant: 'refresh_token' },
    };
    const world = setup(
      spec,
      [
        tokenAt(clock, { refreshToken: secret('rotated-1') }),
        tokenAt(clock, { refreshToken: secret('rotated-2') }),
      ],
      clock,
    );
    world.addSecret('user', { refreshToken: 'seed' });
    world.addSecret('calendar', { clientSecret: 's' });
    world.clients.upsert({
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { namespace: 'payments', name: 'calendar', uid: 'uid-calendar' },
      spec: { issuer: 'https://accounts.example.com/', clientId: 'c', clientSecretRef: { name: 'calendar' } },
    });
    const create = world.port.createSecret.bind(world.port);
    let failNext = true;
    world.port.createSecret = (namespace, body) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('API server unavailable'));
      }
      return create(namespace, body);
    };
    await expect(world.reconcile()).rejects.toThrow('API server unavailable');
    expect(world.port.writes).toEqual([]);
    await world.reconcile();
    const grants = world.engine.asked.map(({ request }) =>
      request.grant.type === 'refresh_token' ? request.grant.refreshToken.reveal() : request.grant.type,
    );
    expect(grants).toEqual(['seed', 'rotated-1']);
  });

  it('should publish a retiring Zendesk API token, Ready with CredentialsRetiring and one Warning event', async () => {
    const world = setup(
      { type: 'zendesk', credentialsRef: { name: 'legacy' }, zendesk: { subdomain: 'acme' } },
      [],
    );
    world.addSecret('legacy', { email: 'agent@example.com', apiToken: 'api-token-value' });
    await world.reconcile();
    expect(world.port.writes).toHaveLength(1);
    const status = world.port.patches[0]?.status as { conditions: { type: string }[] } | undefined;
    expect(status?.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'CredentialsRetiring',
    });
    expect(world.events.summary).toEqual(['Warning CredentialsRetiring']);
    expect(world.events.recorded[0]?.message).toContain('2027-04-30');
    expect(world.events.recorded[0]?.message).not.toContain('api-token-value');
    // Nothing changed: no second Event.
    world.sync();
    await world.reconcile();
    expect(world.events.summary).toEqual(['Warning CredentialsRetiring']);
  });

  it('should report ScopesExceeded, publish nothing and warn, when strictScopes and the grant is wider', async () => {
    const clock = new FakeClock();
    const strict = { ...auth0, auth0: { ...auth0.auth0, domain: 'acme.eu.auth0.com', strictScopes: true } };
    const world = setup(strict, [tokenAt(clock, { grantedScopes: ['read:users', 'delete:users'] })], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    const result = await world.reconcile();
    expect(world.port.writes).toEqual([]);
    expect(world.events.summary).toEqual(['Warning ScopesExceeded', 'Warning ScopesExceeded']);
    expect(world.events.recorded[0]?.message).toBe(
      'the server granted scopes beyond those requested: delete:users',
    );
    expect(world.port.patches[0]?.status).toMatchObject({
      conditions: [
        { type: 'Ready', status: 'False', reason: 'ScopesExceeded' },
        { type: 'Empty', status: 'False' },
        { type: 'Expired', status: 'False', reason: 'NoToken' },
        { type: 'Reconciling', status: 'False', reason: 'ScopesExceeded' },
        { type: 'Stalled', status: 'True', reason: 'ScopesExceeded' },
      ],
    });
    expect(result).toBeUndefined();
  });

  it('should back off after a retryable failure and not ask again before then', async () => {
    const clock = new FakeClock();
    const world = setup(auth0, [new OAuthError('network', 'connect ECONNREFUSED'), tokenAt(clock)], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    const first = await world.reconcile();
    // 2 s, equal jitter at 0.5.
    expect(first).toEqual({ requeueAfterMs: 1500 });
    await clock.advance(1000);
    expect(await world.reconcile()).toEqual({ requeueAfterMs: 500 });
    expect(world.engine.asked).toHaveLength(1);
    // The failure (it came at once: no progress note); waiting writes nothing.
    expect(world.port.patches).toHaveLength(1);
    await clock.advance(500);
    await world.reconcile();
    expect(world.engine.asked).toHaveLength(2);
    expect(world.port.writes).toEqual(['create payments/api-token']);
  });

  it('should patch only the retry record when a retry fails the same way: conditions untouched', async () => {
    const clock = new FakeClock();
    const down = () => new OAuthError('network', 'connect ECONNREFUSED');
    const world = setup(auth0, [down(), down(), down()], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    await world.reconcile();
    world.sync();
    const afterFirst = world.port.patches.length;
    for (let i = 0; i < 2; i++) {
      await clock.advance(10 * 60_000);
      await world.reconcile();
      world.sync();
    }
    expect(world.engine.asked).toHaveLength(3);
    // One patch per failed attempt: the count and time a restarted operator backs off from
    // (failedAttempts, lastFailureTime, nextRetryTime); the conditions and their transition times stay.
    expect(world.port.patches).toHaveLength(afterFirst + 2);
    const statuses = world.port.patches.map(
      (p) => p.status as { failedAttempts?: number; conditions?: unknown },
    );
    expect(statuses.map((st) => st.failedAttempts)).toEqual([1, 2, 3]);
    expect(new Set(statuses.map((st) => JSON.stringify(st.conditions))).size).toBe(1);
    expect(summary(world.port.patches.at(-1)?.status)).toContain('Reconciling=True/EndpointUnreachable');
  });

  it('should say Renewing during a slow renewal only, and keep Ready=True while a renewal fails and the token is valid', async () => {
    const clock = new FakeClock();
    const world = setup(auth0, [tokenAt(clock)], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    const first = await world.reconcile();
    world.sync();
    await clock.advance(first?.requeueAfterMs ?? 0);
    // A renewal answered after 2 s: Reconciling=True once it has taken a second, then the new token.
    world.engine.script(clock.sleep(2000).then(() => tokenAt(clock)));
    let before = world.port.patches.length;
    const renewal = world.reconcile();
    await clock.advance(1000);
    await clock.advance(1000);
    const second = await renewal;
    world.sync();
    expect(world.port.patches.slice(before).map((p) => summary(p.status))).toEqual([
      [
        'Ready=True/TokenValid',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=True/Renewing',
        'Stalled=False/Renewing',
      ],
      [
        'Ready=True/TokenValid',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=False/TokenValid',
        'Stalled=False/TokenValid',
      ],
    ]);
    // A renewal that fails at once: no progress note, Ready stays True with RenewalFailing.
    await clock.advance(second?.requeueAfterMs ?? 0);
    world.engine.script(new OAuthError('server_error', 'HTTP 503'));
    world.engine.script(new OAuthError('invalid_client', 'bad'));
    before = world.port.patches.length;
    await world.reconcile();
    world.sync();
    expect(world.port.patches.slice(before).map((p) => summary(p.status))).toEqual([
      [
        'Ready=True/RenewalFailing',
        'Empty=False/CredentialsPresent',
        'Expired=False/TokenValid',
        'Reconciling=True/ServerError',
        'Stalled=False/ServerError',
      ],
    ]);
    // The first Ready=True came at once: no Event for it (two writes per new connection).
    expect(world.events.summary).toEqual(['Warning RenewalFailing']);
    // A terminal failure of the renewal: still Ready while the token is valid, but Stalled.
    await clock.advance(10 * 60_000);
    await world.reconcile();
    world.sync();
    expect(summary(world.port.patches.at(-1)?.status)).toEqual([
      'Ready=True/RenewalFailing',
      'Empty=False/CredentialsPresent',
      'Expired=False/TokenValid',
      'Reconciling=False/InvalidClient',
      'Stalled=True/InvalidClient',
    ]);
    // Then the token expires: Expired, and Ready=False with the reason of the failure.
    await clock.advance(HOUR);
    await world.reconcile();
    expect(summary(world.port.patches.at(-1)?.status)).toEqual([
      'Ready=False/InvalidClient',
      'Empty=False/CredentialsPresent',
      'Expired=True/InvalidClient',
      'Reconciling=False/InvalidClient',
      'Stalled=True/InvalidClient',
    ]);
  });
});

function summary(status: unknown): string[] {
  const conditions = (status as { conditions?: { type: string; status: string; reason: string }[] })
    .conditions;
  return (conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

describe('VaultConnectionReconciler lifecycle', () => {
  it('should restart the first workload at once and the next one a spacing later, through requeueAfter', async () => {
    const clock = new FakeClock();
    const spec: VaultConnectionSpec = {
      ...auth0,
      rolloutRestartTargets: [
        { kind: 'Deployment', name: 'one' },
        { kind: 'Deployment', name: 'two' },
      ],
    };
    const world = setup(spec, [tokenAt(clock), tokenAt(clock, { accessToken: secret('access-2') })], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    await world.reconcile();
    world.sync();
    // New credentials: a new request, new data, restarts.
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'rotated' });
    const result = await world.reconcile();
    expect(world.port.writes.filter((w) => w.startsWith('restart'))).toEqual([
      'restart Deployment payments/one',
    ]);
    expect(result?.requeueAfterMs).toBe(2_000);
    world.sync();
    await clock.advance(2_000);
    await world.reconcile();
    expect(world.port.writes.filter((w) => w.startsWith('restart'))).toEqual([
      'restart Deployment payments/one',
      'restart Deployment payments/two',
    ]);
  });

  it('should add the revocation finalizer only when revokeOnDelete is in effect', async () => {
    const clock = new FakeClock();
    const world = setup({ ...auth0, revokeOnDelete: true }, [tokenAt(clock)], clock);
    world.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    await world.reconcile();
    expect(world.port.writes[0]).toBe('add finalizer coffre.dev/revoke-tokens payments/api');
    const quiet = setup(auth0, [tokenAt(clock)], clock);
    quiet.addSecret('m2m', { clientId: 'a', clientSecret: 'b' });
    await quiet.reconcile();
    expect(quiet.port.writes.some((w) => w.includes('finalizer'))).toBe(false);
  });
});
