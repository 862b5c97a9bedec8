// The operator against the real API server with static connection types: samples reach Ready, an empty
// connection turns Ready when its Secret arrives, the target Secret is owned and garbage-collected,
// and refusals (foreign Secret, other namespace, malformed credentials) are precise.
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_LABEL,
  DATA_HASH_ANNOTATION,
  MANAGED_BY_LABEL,
} from '../../../src/api/v1alpha1/metadata-keys.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import {
  apply,
  condition,
  getSecret,
  kube,
  remove,
  secretText,
  waitForCondition,
} from '../../support/kube.ts';
import { startTestOperator } from '../../support/operator.ts';
import { loadSample } from '../../support/samples.ts';

async function applySample(namespace: string, file: string): Promise<void> {
  for (const { object } of loadSample(file)) await apply(namespace, object);
}

describe('static connections', () => {
  it.each([
    [
      'api-key.yaml',
      'maps',
      'maps-credentials',
      { api_key: 'FAKE-api-key-not-real', 'X-Api-Key': 'FAKE-api-key-not-real' },
    ],
    [
      'basic-auth.yaml',
      'legacy-erp',
      'legacy-erp-token',
      {
        username: 'FAKE-user',
        password: 'FAKE-password-not-real',
        authorization: `Basic ${Buffer.from('FAKE-user:FAKE-password-not-real').toString('base64')}`,
      },
    ],
    [
      'bearer-token.yaml',
      'status-page',
      'status-page-token',
      { access_token: 'FAKE-bearer-token-not-real', token_type: 'Bearer' },
    ],
    [
      'twilio.yaml',
      'twilio',
      'twilio-token',
      {
        account_sid: 'AC00000000000000000000000000000000',
        username: 'SK00000000000000000000000000000000',
        password: 'FAKE-api-key-secret-not-real',
      },
    ],
    [
      'twilio-auth-token.yaml',
      'twilio-account',
      'twilio-account-token',
      {
        account_sid: 'AC00000000000000000000000000000000',
        username: 'AC00000000000000000000000000000000',
        password: 'FAKE-auth-token-not-real',
      },
    ],
    [
      'zendesk-oauth-token.yaml',
      'zendesk-static',
      'zendesk-static-token',
      {
        base_url: 'https://acme-example.zendesk.com',
        access_token: 'FAKE-zendesk-oauth-token-not-real',
        token_type: 'Bearer',
      },
    ],
    [
      'slack-bot-token.yaml',
      'slack-bot',
      'slack-bot-token',
      { access_token: 'xoxb-FAKE-not-real', token_type: 'Bearer' },
    ],
    [
      'shopify.yaml',
      'shopify-admin',
      'shopify-admin-token',
      {
        access_token: 'shpat_FAKE_not_real_00000000000000',
        token_type: 'Bearer',
        shop_domain: 'acme-example.myshopify.com',
      },
    ],
  ])('publishes %s as its documented keys and reports Ready', async (file, name, target, expected) => {
    const namespace = await useTestNamespace('static');
    await startTestOperator({ namespace });
    await applySample(namespace, file);
    const connection = await waitForCondition(namespace, name, 'Ready', 'True', 'CredentialsPublished');
    expect(condition(connection, 'Empty')?.status).toBe('False');
    expect(condition(connection, 'Expired')?.reason).toBe('DoesNotExpire');
    expect(connection.status?.secretName).toBe(target);
    expect(connection.status?.observedGeneration).toBe(connection.metadata.generation);
    const secret = await getSecret(namespace, target);
    const data = Object.fromEntries(
      Object.keys(secret?.data ?? {}).map((key) => [key, secretText(secret, key)]),
    );
    expect(data).toEqual(expected);
    expect(secret?.metadata?.labels?.[MANAGED_BY_LABEL]).toBe('coffre');
    expect(secret?.metadata?.labels?.[CONNECTION_LABEL]).toBe(name);
    expect(secret?.metadata?.annotations?.[DATA_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
    expect(secret?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'VaultConnection',
      name,
      controller: true,
    });
  });

  it('zendesk-api-token.yaml: publishes the API token, Ready with CredentialsRetiring and a Warning naming 2027-04-30', async () => {
    const namespace = await useTestNamespace('zendesk-legacy');
    await startTestOperator({ namespace });
    await applySample(namespace, 'zendesk-api-token.yaml');
    const connection = await waitForCondition(
      namespace,
      'zendesk-legacy',
      'Ready',
      'True',
      'CredentialsRetiring',
    );
    expect(condition(connection, 'Ready')?.message).toContain('Zendesk deactivates API tokens on 2027-04-30');
    const secret = await getSecret(namespace, 'zendesk-legacy-token');
    expect(
      Object.fromEntries(Object.keys(secret?.data ?? {}).map((key) => [key, secretText(secret, key)])),
    ).toEqual({
      base_url: 'https://acme-example.zendesk.com',
      username: 'agent@example.com/token',
      password: 'FAKE-api-token-not-real',
    });
    const warningsOf = async () =>
      (
        await kube().json<{ items: { type: string; reason: string; message: string }[] }>(
          `/api/v1/namespaces/${namespace}/events`,
        )
      ).items.filter((e) => e.type === 'Warning' && e.reason === 'CredentialsRetiring');
    await expect.poll(async () => (await warningsOf()).length, { timeout: 10_000 }).toBe(1);
    const warnings = await warningsOf();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('2027-04-30');
    expect(JSON.stringify(warnings)).not.toContain('FAKE-api-token-not-real');
  });

  it('reports an empty connection as Empty, then Ready when its Secret appears', async () => {
    const namespace = await useTestNamespace('empty');
    await startTestOperator({ namespace });
    await applySample(namespace, 'empty.yaml');
    const empty = await waitForCondition(namespace, 'crm', 'Empty', 'True', 'SecretNotFound');
    expect(condition(empty, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(empty, 'Ready')?.message).toBe('Secret crm not found');

    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'crm' },
      stringData: { other: 'x' },
    });
    const incomplete = await waitForCondition(namespace, 'crm', 'Empty', 'True', 'KeysMissing');
    expect(condition(incomplete, 'Ready')?.message).toContain('apiKey');

    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'crm' },
      stringData: { apiKey: 'k-123' },
    });
    await waitForCondition(namespace, 'crm', 'Ready', 'True', 'CredentialsPublished');
    expect(secretText(await getSecret(namespace, 'crm-token'), 'api_key')).toBe('k-123');
  });

  it('propagates a change of the credentials Secret to the target Secret', async () => {
    const namespace = await useTestNamespace('propagate');
    await startTestOperator({ namespace });
    await applySample(namespace, 'bearer-token.yaml');
    await waitForCondition(namespace, 'status-page', 'Ready', 'True');
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'status-page-credentials' },
      stringData: { token: '  rotated-token\n' },
    });
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'status-page-token'), 'access_token'), {
        timeout: 15_000,
      })
      .toBe('rotated-token');
  });

  it('never adopts a Secret it does not own, and says so', async () => {
    const namespace = await useTestNamespace('conflict');
    await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maps-credentials' },
      stringData: { mine: 'yes' },
    });
    await applySample(namespace, 'api-key.yaml');
    const connection = await waitForCondition(namespace, 'maps', 'Ready', 'False', 'TargetSecretConflict');
    expect(condition(connection, 'Ready')?.message).toContain('maps-credentials');
    const untouched = await getSecret(namespace, 'maps-credentials');
    expect(Object.keys(untouched?.data ?? {})).toEqual(['mine']);
    expect(untouched?.metadata?.ownerReferences).toBeUndefined();
  });

  it('refuses a reference to another namespace with a clear condition', async () => {
    const namespace = await useTestNamespace('crossns');
    await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'sneaky' },
      spec: { type: 'apiKey', credentialsRef: { name: 'stolen', namespace: 'kube-system' } },
    });
    const connection = await waitForCondition(
      namespace,
      'sneaky',
      'Ready',
      'False',
      'CrossNamespaceReference',
    );
    expect(condition(connection, 'Ready')?.message).toContain('kube-system');
  });

  it('reports malformed credentials by key, never by value', async () => {
    const namespace = await useTestNamespace('malformed');
    await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'twilio' },
      stringData: { accountSid: 'not-a-sid-CANARY', authToken: 't' },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'twilio' },
      spec: { type: 'twilio', credentialsRef: { name: 'twilio' } },
    });
    const connection = await waitForCondition(namespace, 'twilio', 'Ready', 'False', 'InvalidCredentials');
    expect(condition(connection, 'Ready')?.message).toContain('accountSid');
    expect(JSON.stringify(connection.status)).not.toContain('CANARY');
  });

  it('explains that a Secret type cannot change, and recreates the Secret once it is deleted', async () => {
    const namespace = await useTestNamespace('secrettype');
    await startTestOperator({ namespace });
    await applySample(namespace, 'bearer-token.yaml');
    await waitForCondition(namespace, 'status-page', 'Ready', 'True');
    const connection = {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'status-page' },
      spec: {
        type: 'bearerToken',
        credentialsRef: { name: 'status-page-credentials' },
        target: {
          template: { type: 'kubernetes.io/basic-auth', data: { password: '{{ .access_token }}' } },
        },
      },
    };
    await apply(namespace, connection);
    const blocked = await waitForCondition(namespace, 'status-page', 'Ready', 'False', 'TemplateError');
    expect(condition(blocked, 'Ready')?.message).toContain('cannot change');
    await remove(namespace, 'v1', 'Secret', 'status-page-token');
    await waitForCondition(namespace, 'status-page', 'Ready', 'True', 'CredentialsPublished');
    expect((await getSecret(namespace, 'status-page-token'))?.type).toBe('kubernetes.io/basic-auth');
  });

  it('lets the garbage collector delete the target Secret with its connection', async () => {
    const namespace = await useTestNamespace('gc');
    await startTestOperator({ namespace });
    await applySample(namespace, 'basic-auth.yaml');
    await waitForCondition(namespace, 'legacy-erp', 'Ready', 'True');
    expect(await getSecret(namespace, 'legacy-erp-token')).toBeDefined();
    await remove(namespace, 'coffre.dev/v1alpha1', 'VaultConnection', 'legacy-erp');
    await expect
      .poll(async () => (await getSecret(namespace, 'legacy-erp-token')) === undefined, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(true);
    expect(await getSecret(namespace, 'legacy-erp')).toBeDefined();
  });
});
