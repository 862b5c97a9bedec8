// What a tenant who may write Secrets in its namespace can and cannot do to coffre (docs/security.md):
// plant a token or push back an expiry in a target Secret (not trusted: coffre mints anew), get a token
// shared with another namespace (never), grow coffre's memory with Secrets labelled as coffre's (kept
// as metadata only), or make coffre render an unbounded Secret (TemplateTooLarge). Real API server, the
// operator as the chart's ServiceAccount, a real OAuth server.
import { describe, expect, it } from 'vitest';
import { EXPIRES_AT_ANNOTATION } from '../../../src/api/v1alpha1/metadata-keys.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, condition, getSecret, kube, secretText, waitForCondition } from '../../support/kube.ts';
import { applyClient, applyTokenConnection, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

const SECRETS = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;

describe('tenant isolation', () => {
  it('does not trust a token planted in a target Secret, nor an expiry pushed back by hand', async () => {
    const namespace = await useTestNamespace('poison');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
    const running = await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    const original = await getSecret(namespace, 'billing-token');
    const originalToken = secretText(original, 'access_token');
    const originalExpiry = original?.metadata?.annotations?.[EXPIRES_AT_ANNOTATION];
    // Someone who may write Secrets in the namespace plants a token and a far expiry, keeping every
    // other annotation, so that coffre would trust it and never renew.
    const plant = () =>
      kube().json(`${SECRETS(namespace)}/billing-token`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({
          metadata: { annotations: { [EXPIRES_AT_ANNOTATION]: '2099-01-01T00:00:00.000Z' } },
          stringData: { access_token: 'planted-by-a-tenant' },
        }),
      });

    // While it runs, coffre puts back the token it minted (still in its memory): nothing is minted.
    const minted = server.tokenRequests();
    await plant();
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'billing-token'), 'access_token'), {
        timeout: 20_000,
      })
      .toBe(originalToken);
    expect(
      (await getSecret(namespace, 'billing-token'))?.metadata?.annotations?.[EXPIRES_AT_ANNOTATION],
    ).toBe(originalExpiry);
    expect(server.tokenRequests()).toBe(minted);

    // After a restart only the Secret remembers the token: planted while coffre was down, it is not
    // trusted (its signature does not match), so coffre mints a new one instead of renewing in 2099.
    await running.stop();
    await plant();
    await startTestOperator({ namespace, caPem: server.caPem });
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'billing-token'), 'access_token'), {
        timeout: 20_000,
      })
      .not.toBe('planted-by-a-tenant');
    const repaired = await getSecret(namespace, 'billing-token');
    expect(secretText(repaired, 'access_token')).not.toBe(originalToken);
    expect(repaired?.metadata?.annotations?.[EXPIRES_AT_ANNOTATION]).not.toBe('2099-01-01T00:00:00.000Z');
    expect(server.tokenRequests()).toBe(minted + 1);
  });

  it('never shares a token between namespaces, and shares it within one', async () => {
    const a = await useTestNamespace('tenant-a');
    const b = await useTestNamespace('tenant-b');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
    await startTestOperator({ namespace: a, caPem: server.caPem, flags: [`--watch-namespaces=${a},${b}`] });
    for (const namespace of [a, b]) {
      await applyClient(namespace, server);
      await applyTokenConnection(namespace, 'one');
      await applyTokenConnection(namespace, 'two');
    }
    for (const namespace of [a, b])
      for (const name of ['one', 'two']) await waitForCondition(namespace, name, 'Ready', 'True');
    const token = async (namespace: string, name: string) =>
      secretText(await getSecret(namespace, `${name}-token`), 'access_token');
    expect(await token(a, 'one')).toBe(await token(a, 'two'));
    expect(await token(b, 'one')).toBe(await token(b, 'two'));
    expect(await token(a, 'one')).not.toBe(await token(b, 'one'));
    expect(server.tokenRequests()).toBe(2);
  });

  it('keeps no data of Secrets a tenant labels as coffre’s, however large', async () => {
    const namespace = await useTestNamespace('impostors');
    const operator = await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maps-credentials' },
      stringData: { apiKey: 'real-key' },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'maps' },
      spec: { type: 'apiKey', credentialsRef: { name: 'maps-credentials' } },
    });
    const ready = await waitForCondition(namespace, 'maps', 'Ready', 'True');
    const uid = ready.metadata.uid ?? '';
    const blob = Buffer.alloc(256 * 1024, 0x61).toString('base64');
    // Half claim the real connection as their owner under other names; half only carry the label (an
    // owner that does not exist would have the garbage collector delete them).
    const impostor = (name: string, claimOwner: boolean) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        labels: { 'app.kubernetes.io/managed-by': 'coffre', 'coffre.dev/connection': 'maps' },
        ...(claimOwner
          ? {
              ownerReferences: [
                {
                  apiVersion: 'coffre.dev/v1alpha1',
                  kind: 'VaultConnection',
                  name: 'maps',
                  uid,
                  controller: true,
                },
              ],
            }
          : {}),
      },
      data: { blob },
    });
    const names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `impostor-${i}`;
      names.push(name);
      await apply(namespace, impostor(name, i % 2 === 0));
    }
    const store = operator.operator.caches.ownedSecrets.store;
    await expect
      .poll(() => names.every((n) => store.get(`${namespace}/${n}`) !== undefined), { timeout: 10_000 })
      .toBe(true);
    // The watch of coffre's own Secrets carries metadata only; the one Secret read whole is the
    // connection's own target.
    for (const name of [...names, 'maps-token'])
      expect(Object.keys(store.get(`${namespace}/${name}`) ?? {}).sort()).toEqual([
        'apiVersion',
        'kind',
        'metadata',
      ]);
    expect(operator.operator.ownedSecretData.size).toBe(1);
    // And the connection still works from it: a change of its credentials is published.
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maps-credentials' },
      stringData: { apiKey: 'rotated-key' },
    });
    await expect
      .poll(async () => secretText(await getSecret(namespace, 'maps-token'), 'api_key'), { timeout: 15_000 })
      .toBe('rotated-key');
    expect(operator.operator.ownedSecretData.size).toBe(1);
  });

  it('refuses to render a template past 1 MiB (TemplateTooLarge) and writes nothing', async () => {
    const namespace = await useTestNamespace('bomb');
    await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'big' },
      stringData: { token: 'x'.repeat(200 * 1024) },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'bomb' },
      spec: {
        type: 'bearerToken',
        credentialsRef: { name: 'big' },
        target: { template: { data: { header: '{{ .access_token }}'.repeat(10) } } },
      },
    });
    const refused = await waitForCondition(namespace, 'bomb', 'Ready', 'False', 'TemplateTooLarge');
    expect(condition(refused, 'Ready')?.message).toContain('1048576');
    expect(await getSecret(namespace, 'bomb-token')).toBeUndefined();
  });
});
