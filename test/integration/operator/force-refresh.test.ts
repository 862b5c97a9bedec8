// The force-refresh annotation, acknowledged: for a token type it mints a new token at once, for a static
// type it reads the credentials again and publishes them again, and either way status.observedForceRefresh
// records the value processed — so `kubectl wait --for=jsonpath=...` (the real kubectl) can wait for it,
// also when the renewal failed (Ready then says why). Real API server, operator, oidc-provider.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  FORCE_REFRESH_ANNOTATION,
  FORCE_REFRESH_HANDLED_ANNOTATION,
} from '../../../src/api/v1alpha1/metadata-keys.ts';
import { clusterKubeconfigPath, useTestNamespace } from '../../support/cluster.ts';
import {
  apply,
  condition,
  getConnection,
  getSecret,
  kube,
  secretText,
  waitForCondition,
} from '../../support/kube.ts';
import { applyClient, applyTokenConnection, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

const run = promisify(execFile);

async function annotate(namespace: string, name: string, value: string): Promise<void> {
  await kube().json(`/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections/${name}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({ metadata: { annotations: { [FORCE_REFRESH_ANNOTATION]: value } } }),
  });
}

/** `kubectl wait` for the acknowledgement, as docs/operations.md tells users to. */
async function kubectlWait(namespace: string, name: string, value: string): Promise<void> {
  await run('kubectl', [
    '--kubeconfig',
    clusterKubeconfigPath(),
    '-n',
    namespace,
    'wait',
    `vc/${name}`,
    `--for=jsonpath={.status.observedForceRefresh}=${value}`,
    '--timeout=20s',
  ]);
}

describe('force refresh', () => {
  it('mints a new token for the value and records it in status, which kubectl wait waits for', async () => {
    const namespace = await useTestNamespace('force-ack');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    const before = secretText(await getSecret(namespace, 'billing-token'), 'access_token');
    expect((await getConnection(namespace, 'billing')).status?.observedForceRefresh).toBeUndefined();

    await annotate(namespace, 'billing', '1700000001');
    await kubectlWait(namespace, 'billing', '1700000001');
    const connection = await getConnection(namespace, 'billing');
    expect(condition(connection, 'Ready')).toMatchObject({ status: 'True', reason: 'TokenValid' });
    const secret = await getSecret(namespace, 'billing-token');
    expect(secretText(secret, 'access_token')).not.toBe(before);
    expect(secret?.metadata?.annotations?.[FORCE_REFRESH_HANDLED_ANNOTATION]).toBe('1700000001');
    expect(server.tokenRequests('client_credentials')).toBe(2);
  });

  it('acknowledges a forced renewal that failed, with Ready saying why', async () => {
    const namespace = await useTestNamespace('force-fail');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    await waitForCondition(namespace, 'billing', 'Ready', 'True');
    // The client secret is rotated at the provider (here: the Secret holds a wrong one) and nobody
    // noticed: the published token is still valid, so only the forced renewal finds out.
    await kube().json(`/api/v1/namespaces/${namespace}/secrets/local-client`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ stringData: { clientSecret: 'wrong-secret' } }),
    });
    await waitForCondition(namespace, 'billing', 'Ready', 'False', 'InvalidClient');
    await annotate(namespace, 'billing', 'after-rotation');
    await kubectlWait(namespace, 'billing', 'after-rotation');
    const connection = await getConnection(namespace, 'billing');
    expect(condition(connection, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidClient' });
    // Acknowledged once, and it stays: a later reconcile does not flip it back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getConnection(namespace, 'billing')).status?.observedForceRefresh).toBe('after-rotation');
  });

  it('re-publishes a static connection for the value and records it in status', async () => {
    const namespace = await useTestNamespace('force-static');
    await startTestOperator({ namespace });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maps-credentials' },
      stringData: { apiKey: 'FAKE-api-key-not-real' },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'maps' },
      spec: { type: 'apiKey', credentialsRef: { name: 'maps-credentials' } },
    });
    await waitForCondition(namespace, 'maps', 'Ready', 'True', 'CredentialsPublished');
    const before = await getSecret(namespace, 'maps-token');

    await annotate(namespace, 'maps', 'now');
    await kubectlWait(namespace, 'maps', 'now');
    const after = await getSecret(namespace, 'maps-token');
    expect(after?.metadata?.annotations?.[FORCE_REFRESH_HANDLED_ANNOTATION]).toBe('now');
    expect(after?.data).toEqual(before?.data);
    expect(condition(await getConnection(namespace, 'maps'), 'Ready')).toMatchObject({ status: 'True' });
  });
});
