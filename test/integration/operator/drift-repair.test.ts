// Drift repair: a target Secret edited, deleted or relabelled by hand is put back on the next reconcile
// (the watch on coffre's own Secrets triggers it; the recorded data hash and record signature tell coffre
// the Secret no longer says what it wrote) — with the token coffre already holds, so the OAuth server is
// not asked for a new one while the published token is valid, and no workload is restarted for it.
// Real API server, the operator as the chart's ServiceAccount, oidc-provider.
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_LABEL,
  DATA_HASH_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  MANAGED_BY_LABEL,
  RECORD_SIGNATURE_ANNOTATION,
  REQUEST_HASH_ANNOTATION,
} from '../../../src/api/v1alpha1/metadata-keys.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getSecret, kube, secretText, waitForCondition } from '../../support/kube.ts';
import { applyClient, applyTokenConnection, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

const SECRET = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets/billing-token`;

async function patchTarget(namespace: string, patch: unknown): Promise<void> {
  await kube().json(SECRET(namespace), {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify(patch),
  });
}

/** What coffre wrote: data, its annotations and labels (not the resourceVersion, which moves). */
function written(secret: V1Secret | undefined) {
  return {
    data: secret?.data,
    annotations: secret?.metadata?.annotations,
    labels: secret?.metadata?.labels,
  };
}

async function setup(prefix: string) {
  const namespace = await useTestNamespace(prefix);
  const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
  await startTestOperator({ namespace, caPem: server.caPem });
  await apply(namespace, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
  await applyClient(namespace, server);
  await applyTokenConnection(namespace, 'billing', {
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
  });
  await waitForCondition(namespace, 'billing', 'Ready', 'True');
  const original = await getSecret(namespace, 'billing-token');
  const minted = server.tokenRequests();
  expect(minted).toBe(1);
  const podTemplate = async () =>
    (
      await kube().json<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(
        `/apis/apps/v1/namespaces/${namespace}/deployments/api`,
      )
    ).spec.template.metadata.annotations;
  /** Waits until the target Secret is again what coffre wrote, then checks nothing else happened. */
  const expectRepaired = async () => {
    await expect
      .poll(async () => written(await getSecret(namespace, 'billing-token')), { timeout: 20_000 })
      .toEqual(written(original));
    expect(server.tokenRequests()).toBe(minted);
    expect(await podTemplate()).toBeUndefined();
  };
  return { namespace, original, expectRepaired };
}

describe('drift repair', () => {
  it('restores the data of a target Secret edited by hand, with the same token', async () => {
    const { namespace, original, expectRepaired } = await setup('drift-edit');
    await patchTarget(namespace, { stringData: { access_token: 'edited-by-hand', extra: 'added' } });
    await expectRepaired();
    expect(secretText(await getSecret(namespace, 'billing-token'), 'access_token')).toBe(
      secretText(original, 'access_token'),
    );
  });

  it('recreates a target Secret deleted by hand, with the same token', async () => {
    const { namespace, original, expectRepaired } = await setup('drift-delete');
    await kube().json(SECRET(namespace), { method: 'DELETE' });
    await expectRepaired();
    const recreated = await getSecret(namespace, 'billing-token');
    expect(recreated?.metadata?.uid).not.toBe(original?.metadata?.uid);
  });

  it.each([
    ['an edited expiry', { [EXPIRES_AT_ANNOTATION]: '2099-01-01T00:00:00.000Z' }],
    ['an edited request hash', { [REQUEST_HASH_ANNOTATION]: 'edited' }],
    ['a removed data hash', { [DATA_HASH_ANNOTATION]: null }],
    ['a removed record signature', { [RECORD_SIGNATURE_ANNOTATION]: null }],
  ])('restores the annotations of a target Secret after %s', async (_what, annotations) => {
    const { namespace, expectRepaired } = await setup('drift-annotation');
    await patchTarget(namespace, { metadata: { annotations } });
    await expectRepaired();
  });

  it('restores the labels of a target Secret, even when its managed-by label is removed', async () => {
    const { namespace, expectRepaired } = await setup('drift-label');
    await patchTarget(namespace, {
      metadata: { labels: { [MANAGED_BY_LABEL]: null, [CONNECTION_LABEL]: 'x' } },
    });
    await expectRepaired();
  });
});
