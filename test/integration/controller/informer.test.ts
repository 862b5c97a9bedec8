// The informer against a real kube-apiserver: 410 recovery with nothing lost or doubled, resuming
// across server-side watch timeouts, several namespaces, and the metadata-only mode over Secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { Informer, type ListReason } from '../../../src/controller/informer.ts';
import { createKubeHttp, type KubeHttp } from '../../../src/controller/kube-http.ts';
import { resolveInformerOptions, type InformerSpec } from '../../../src/controller/options.ts';
import { objectKey, type KubeObject } from '../../../src/controller/types.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import {
  compactEtcd as compactEtcdAt,
  loadKubeConfig,
  startControlPlane,
  type ControlPlane,
} from '../../../tools/controlplane/controlplane.ts';
import { clusterKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { configMaps, eventually, severable, versions, type ConfigMap } from './support.ts';

interface Recorded {
  type: 'add' | 'update' | 'delete';
  key: string;
  uid: string;
  rv: string;
  oldRv?: string;
}

function informerOn<T extends KubeObject>(
  http: KubeHttp,
  spec: Partial<InformerSpec<T>> & Pick<InformerSpec<T>, 'resource'>,
) {
  const lists: ListReason[] = [];
  const events: Recorded[] = [];
  const informer = new Informer<T>(
    resolveInformerOptions<T>(
      { name: 'test', backoff: { baseMs: 100, maxMs: 1000 }, ...spec },
      {
        http,
        clock: systemClock,
        logger: silentLogger(),
        random: Math.random,
        observer: { listed: (_name, reason) => lists.push(reason) },
      },
    ),
  );
  const record = (type: Recorded['type'], o: T, old?: T) =>
    events.push({
      type,
      key: objectKey(o),
      uid: o.metadata?.uid ?? '',
      rv: o.metadata?.resourceVersion ?? '',
      ...(old === undefined ? {} : { oldRv: old.metadata?.resourceVersion ?? '' }),
    });
  informer.addHandlers({
    onAdd: (o) => record('add', o),
    onUpdate: (old, o) => record('update', o, old),
    onDelete: (o) => record('delete', o),
  });
  return { informer, lists, events };
}

/** Replays handler events onto an empty map; fails on an impossible or duplicate transition. */
function replay(events: readonly Recorded[]): Map<string, string> {
  const state = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'add') expect(state.has(e.key), `duplicate add of ${e.key}`).toBe(false);
    if (e.type === 'update')
      expect(state.get(e.key), `update of ${e.key} from an unseen state`).toBe(e.oldRv);
    if (e.type === 'delete') expect(state.has(e.key), `delete of unknown ${e.key}`).toBe(true);
    if (e.type === 'delete') state.delete(e.key);
    else state.set(e.key, e.rv);
  }
  return state;
}

const configmapsResource = { group: '', version: 'v1', plural: 'configmaps' };

describe('Informer on a real API server', () => {
  // The shared API server answers old watches from its watch cache, which etcd compaction does not
  // shorten; a second one without watch cache reads etcd directly, so compaction yields a real 410.
  let direct: ControlPlane;
  let directHttp: KubeHttp;

  beforeAll(async () => {
    direct = await startControlPlane({ controllerManager: false, apiServerFlags: ['--watch-cache=false'] });
    directHttp = createKubeHttp(loadKubeConfig(direct));
  }, 120_000);

  afterAll(async () => {
    await directHttp.close();
    await direct.stop();
  });

  it('should recover from 410 Gone after a partition and hand handlers every change exactly once', async () => {
    const namespace = `gone-${Date.now()}`;
    await directHttp.json('/api/v1/namespaces', {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ metadata: { name: namespace } }),
    });
    const cms = configMaps(directHttp, namespace);
    for (const name of ['kept', 'changed', 'deleted', 'recreated']) await cms.create(name, { v: '1' });
    const link = severable(directHttp);
    const { informer, lists, events } = informerOn<ConfigMap>(link.http, {
      resource: configmapsResource,
      namespaces: [namespace],
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.store.size).toBe(4);
    const recreatedUid = informer.store.get(`${namespace}/recreated`)?.metadata?.uid;

    link.sever();
    await cms.update('changed', { v: '2' });
    await cms.delete('deleted');
    await cms.create('added', { v: '1' });
    await cms.delete('recreated');
    await cms.create('recreated', { v: '2' });
    await compactEtcdAt(direct.etcdUrl);
    link.heal();

    const fresh = async () => versions(await cms.list());
    await eventually('the cache to match a fresh list', async () => {
      const expected = await fresh();
      return (
        JSON.stringify([...versions(informer.store.list())].sort()) === JSON.stringify([...expected].sort())
      );
    });
    await informer.stop();

    expect(lists).toEqual(['initial', 'expired']);
    console.log(`[informer] watch statuses: ${JSON.stringify(link.watchStatuses)}`);
    const afterPartition = events.slice(4).map((e) => `${e.type} ${e.key.split('/')[1] ?? ''}`);
    expect(afterPartition.sort()).toEqual(
      ['add added', 'add recreated', 'delete deleted', 'delete recreated', 'update changed'].sort(),
    );
    expect(events.find((e) => e.type === 'delete' && e.key.endsWith('/recreated'))?.uid).toBe(recreatedUid);
    expect(replay(events)).toEqual(await fresh());
  });

  it('should resume across server-side watch timeouts from the last resourceVersion, without relisting', async () => {
    const namespace = await useTestNamespace('resume');
    const http = createKubeHttp(clusterKubeConfig());
    const cms = configMaps(http, namespace);
    const link = severable(http);
    const { informer, lists, events } = informerOn<ConfigMap>(link.http, {
      resource: configmapsResource,
      namespaces: [namespace],
      watchTimeoutSeconds: 1,
    });
    informer.start();
    await informer.waitForSync();
    for (let i = 0; i < 8; i++) {
      await cms.create(`cm-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await eventually('all creations seen', () => informer.store.size === 8);
    // Each watch lasts 1–2 s on the server: wait for three of them rather than assume the creations
    // took long enough (on a loaded machine they may not).
    await eventually('three server-side watch timeouts', () => link.watchStatuses.length >= 3);
    await informer.stop();
    await http.close();
    expect(lists).toEqual(['initial']);
    expect(link.watchStatuses.length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.type)).toEqual(Array<string>(8).fill('add'));
  });

  it('should watch several namespaces and none other', async () => {
    const [a, b, other] = [
      await useTestNamespace('ns-a'),
      await useTestNamespace('ns-b'),
      await useTestNamespace('ns-c'),
    ];
    const http = createKubeHttp(clusterKubeConfig());
    await configMaps(http, a).create('x');
    await configMaps(http, other).create('ignored');
    const { informer } = informerOn<ConfigMap>(http, { resource: configmapsResource, namespaces: [a, b] });
    informer.start();
    await informer.waitForSync();
    await configMaps(http, b).create('y');
    await eventually('the watch event from b', () => informer.store.get(`${b}/y`) !== undefined);
    // kube-root-ca.crt is published into every namespace by the controller manager.
    const names = informer.store.list().filter((o) => o.metadata?.name !== 'kube-root-ca.crt');
    expect(names.map(objectKey).sort()).toEqual([`${a}/x`, `${b}/y`]);
    expect(informer.store.byNamespace(other)).toEqual([]);
    await informer.stop();
    await http.close();
  });

  it('should cache Secrets as metadata only: no data, from the list and from the watch', async () => {
    const namespace = await useTestNamespace('meta');
    const http = createKubeHttp(clusterKubeConfig());
    const canary = `canary-${Date.now()}`;
    const payload = Buffer.from(`${canary}${'x'.repeat(64 * 1024)}`).toString('base64');
    const createSecret = (name: string) =>
      http.json(`/api/v1/namespaces/${namespace}/secrets`, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ metadata: { name, labels: { app: 'test' } }, data: { big: payload } }),
      });
    for (let i = 0; i < 20; i++) await createSecret(`listed-${i}`);
    const { informer } = informerOn<KubeObject>(http, {
      resource: { group: '', version: 'v1', plural: 'secrets' },
      namespaces: [namespace],
      metadataOnly: true,
    });
    informer.start();
    await informer.waitForSync();
    await createSecret('watched');
    await eventually('the watched Secret', () => informer.store.get(`${namespace}/watched`) !== undefined);
    const cached = informer.store.list();
    expect(cached).toHaveLength(21);
    for (const object of cached) {
      // The API server itself sent PartialObjectMetadata.
      expect(object).toMatchObject({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata' });
      expect(Object.keys(object).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    }
    const size = JSON.stringify(cached).length;
    expect(JSON.stringify(cached)).not.toContain(canary);
    // 21 Secrets of 64 KiB each: the cache holds under 1 KiB per Secret.
    expect(size).toBeLessThan(21 * 1024);
    console.log(`[informer] 21 Secrets of 64 KiB cached in ${size} bytes of metadata`);
    await informer.stop();
    await http.close();
  });
});
