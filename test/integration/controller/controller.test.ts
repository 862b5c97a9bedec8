// Controllers on a real API server: a failing or slow object never delays the others; changes to
// referenced Secrets (metadata-only informer + index) and to owned objects re-queue their dependents.
import { describe, expect, it } from 'vitest';
import { createManager } from '../../../src/controller/manager.ts';
import { objectKey, type KubeObject } from '../../../src/controller/types.ts';
import { clusterKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { createKubeHttp } from '../../../src/controller/kube-http.ts';
import { configMaps, eventually, type ConfigMap } from './support.ts';

const configmapsResource = { group: '', version: 'v1', plural: 'configmaps' };
const secretsResource = { group: '', version: 'v1', plural: 'secrets' };

describe('Controller on a real API server', () => {
  it('should never let an object that keeps failing, or one that is slow, delay the others', async () => {
    const namespace = await useTestNamespace('ctl-isolation');
    const http = createKubeHttp(clusterKubeConfig());
    const reconciledAt = new Map<string, number>();
    let failures = 0;
    const manager = createManager(clusterKubeConfig(), { shutdownGraceMs: 1_000 });
    const informer = manager.informer<ConfigMap>({
      name: 'cms',
      resource: configmapsResource,
      namespaces: [namespace],
    });
    manager.controller({
      name: 'isolation',
      informer,
      workers: 2,
      reconciler: {
        async reconcile({ name }, { signal }) {
          if (name === 'failing') {
            failures++;
            throw new Error('this object always fails');
          }
          if (name === 'slow') {
            await new Promise((resolve) => {
              const timer = setTimeout(resolve, 10_000);
              signal.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve(undefined);
              });
            });
          }
          if (!reconciledAt.has(name)) reconciledAt.set(name, Date.now());
        },
      },
    });
    await manager.start();
    const cms = configMaps(http, namespace);
    await cms.create('failing');
    await cms.create('slow');
    const createdAt = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      await cms.create(`good-${i}`);
      createdAt.set(`good-${i}`, Date.now());
    }
    await eventually('every good object reconciled', () =>
      [...createdAt.keys()].every((n) => reconciledAt.has(n)),
    );
    const delays = [...createdAt].map(([name, at]) => (reconciledAt.get(name) ?? 0) - at);
    expect(Math.max(...delays)).toBeLessThan(1_000);
    await eventually('the failing object retried with backoff', () => failures >= 3, 10_000);
    console.log(
      `[controller] 20 objects reconciled within ${Math.max(...delays)} ms of creation, beside one failing (${failures} attempts) and one hanging`,
    );
    const report = await manager.stop();
    expect(report.controllers.isolation?.drained).toBe(false); // the slow one was aborted at the deadline
    await http.close();
  });

  it('should re-queue the objects that reference a Secret, and the owner of an owned Secret, when it changes', async () => {
    const namespace = await useTestNamespace('ctl-related');
    const http = createKubeHttp(clusterKubeConfig());
    const runs: string[] = [];
    const manager = createManager(clusterKubeConfig());
    const informer = manager.informer<ConfigMap>({
      name: 'cms',
      resource: configmapsResource,
      namespaces: [namespace],
    });
    informer.addIndex('secretRef', (cm) =>
      cm.data?.secretRef === undefined ? [] : [`${cm.metadata?.namespace ?? ''}/${cm.data.secretRef}`],
    );
    const secrets = manager.informer<KubeObject>({
      name: 'secrets',
      resource: secretsResource,
      namespaces: [namespace],
      metadataOnly: true,
    });
    manager
      .controller({
        name: 'related',
        informer,
        reconciler: {
          reconcile({ name }) {
            runs.push(name);
            return Promise.resolve();
          },
        },
      })
      .watches(secrets, (secret) =>
        informer.store.byIndex('secretRef', objectKey(secret)).map((cm) => ({
          namespace: cm.metadata?.namespace ?? '',
          name: cm.metadata?.name ?? '',
        })),
      )
      .owns(secrets, { group: '', kind: 'ConfigMap' });
    const cms = configMaps(http, namespace);
    await cms.create('uses-x', { secretRef: 'x' });
    await cms.create('uses-y', { secretRef: 'y' });
    const owner = await cms.create('owner');
    const secretsPath = `/api/v1/namespaces/${namespace}/secrets`;
    const post = (body: unknown) =>
      http.json(secretsPath, { method: 'POST', contentType: 'application/json', body: JSON.stringify(body) });
    await post({ metadata: { name: 'x' }, stringData: { k: 'v1' } });
    await post({ metadata: { name: 'y' }, stringData: { k: 'v1' } });
    await post({
      metadata: {
        name: 'owned',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid, controller: true },
        ],
      },
      stringData: { k: 'v1' },
    });
    await manager.start();
    await eventually('the initial reconciles', () =>
      ['uses-x', 'uses-y', 'owner'].every((n) => runs.includes(n)),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    runs.length = 0;

    const patch = (name: string) =>
      http.json(`${secretsPath}/${name}`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({ stringData: { k: 'v2' } }),
      });
    await patch('x');
    await eventually('uses-x re-queued by its Secret', () => runs.includes('uses-x'));
    await patch('owned');
    await eventually('owner re-queued by the Secret it owns', () => runs.includes('owner'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.sort()).toEqual(['owner', 'uses-x']);
    await manager.stop();
    await http.close();
  });
});
