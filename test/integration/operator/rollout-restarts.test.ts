// rolloutRestartTargets and rolloutRestartPolicy on the real API server with the operator and
// oidc-provider: routine renewals restart nothing by default and everything under OnEveryChange,
// restarts of many workloads are spaced (2 s apart), and an operator restart restarts nothing.
import { describe, expect, it } from 'vitest';
import { RESTARTED_FOR_ANNOTATION } from '../../../src/api/v1alpha1/metadata-keys.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getSecret, kube, secretText, waitForCondition } from '../../support/kube.ts';
import {
  applyClient,
  applyTokenConnection,
  AUDIENCE,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

async function deployment(namespace: string, name: string): Promise<void> {
  await apply(namespace, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
}

async function restartedFor(namespace: string, name: string): Promise<string | undefined> {
  const found = await kube().json<{
    spec: { template: { metadata: { annotations?: Record<string, string> } } };
  }>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
  return found.spec.template.metadata.annotations?.[RESTARTED_FOR_ANNOTATION];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rollout restarts', () => {
  it('restarts nothing on routine renewals by default, and on each one under OnEveryChange', async () => {
    const namespace = await useTestNamespace('rollout-policy');
    // 2-second tokens: renewed about every 1.3 s.
    const server = await startOAuthServer({ accessTokenTtlSeconds: 2 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await deployment(namespace, 'reads-file');
    await deployment(namespace, 'reads-env');
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'quiet', {
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'reads-file' }],
    });
    await applyTokenConnection(namespace, 'eager', {
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'reads-env' }],
      rolloutRestartPolicy: 'OnEveryChange',
    });
    await waitForCondition(namespace, 'quiet', 'Ready', 'True');
    await waitForCondition(namespace, 'eager', 'Ready', 'True');
    const first = secretText(await getSecret(namespace, 'quiet-token'), 'access_token');
    const seen = new Set<string>();
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline) {
      const value = await restartedFor(namespace, 'reads-env');
      if (value !== undefined) seen.add(value);
      await sleep(200);
    }
    expect(secretText(await getSecret(namespace, 'quiet-token'), 'access_token')).not.toBe(first);
    expect(await restartedFor(namespace, 'reads-file')).toBeUndefined();
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('spaces the restarts of many workloads, and an operator restart restarts none', async () => {
    const namespace = await useTestNamespace('rollout-spread');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    const operator = await startTestOperator({ namespace, caPem: server.caPem });
    const names = ['a', 'b', 'c'];
    for (const name of names) await deployment(namespace, name);
    await applyClient(namespace, server);
    for (const name of names) {
      await applyTokenConnection(namespace, `conn-${name}`, {
        rolloutRestartTargets: [{ kind: 'Deployment', name }],
      });
    }
    for (const name of names) await waitForCondition(namespace, `conn-${name}`, 'Ready', 'True');
    // A change of each connection's spec (its scopes) is a new request, a new token and a restart of
    // its workload: three restarts due at once, made one at a time.
    for (const name of names) {
      await applyTokenConnection(namespace, `conn-${name}`, {
        rolloutRestartTargets: [{ kind: 'Deployment', name }],
        oauth2: { audience: AUDIENCE, scopes: ['read:users'] },
      });
    }
    const restartedAt = new Map<string, number>();
    const deadline = Date.now() + 20_000;
    while (restartedAt.size < names.length && Date.now() < deadline) {
      for (const name of names) {
        if (!restartedAt.has(name) && (await restartedFor(namespace, name)) !== undefined)
          restartedAt.set(name, Date.now());
      }
      await sleep(100);
    }
    expect(restartedAt.size).toBe(names.length);
    const times = [...restartedAt.values()].sort((x, y) => x - y);
    // 2 s apart, less what polling blurs.
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1_500);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(1_500);

    const annotations = await Promise.all(names.map((name) => restartedFor(namespace, name)));
    await operator.stop();
    await startTestOperator({ namespace, caPem: server.caPem });
    for (const name of names) await waitForCondition(namespace, `conn-${name}`, 'Ready', 'True');
    await sleep(3_000);
    expect(await Promise.all(names.map((name) => restartedFor(namespace, name)))).toEqual(annotations);
  });
});
