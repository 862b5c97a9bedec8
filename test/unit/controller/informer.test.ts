import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { Informer, METADATA_LIST_ACCEPT, METADATA_OBJECT_ACCEPT } from '../../../src/controller/informer.ts';
import { resolveInformerOptions, type InformerSpec } from '../../../src/controller/options.ts';
import { objectKey } from '../../../src/controller/types.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { FakeApiServer, type FakeObject } from './support/fake-api-server.ts';

/** A deterministic pseudo-random source (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seen {
  type: 'add' | 'update' | 'delete';
  key: string;
  rv: string;
  oldRv?: string;
}

function setup(spec: Partial<InformerSpec<FakeObject>> = {}, server = new FakeApiServer()) {
  const clock = new FakeClock();
  const lists: string[] = [];
  const informer = new Informer<FakeObject>(
    resolveInformerOptions<FakeObject>(
      {
        name: 'configmaps',
        resource: { group: '', version: 'v1', plural: 'configmaps' },
        pageSize: 2,
        ...spec,
      },
      {
        http: server.http,
        clock,
        logger: silentLogger(),
        random: () => 0.5,
        observer: { listed: (_name, reason) => lists.push(reason) },
      },
    ),
  );
  const seen: Seen[] = [];
  informer.addHandlers({
    onAdd: (o) => seen.push({ type: 'add', key: objectKey(o), rv: o.metadata.resourceVersion }),
    onUpdate: (old, o) =>
      seen.push({
        type: 'update',
        key: objectKey(o),
        rv: o.metadata.resourceVersion,
        oldRv: old.metadata.resourceVersion,
      }),
    onDelete: (o) => seen.push({ type: 'delete', key: objectKey(o), rv: o.metadata.resourceVersion }),
  });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await clock.advance(0);
  };
  return { clock, server, informer, seen, settle, lists };
}

/** Replays handler events onto an empty map, failing on any impossible or duplicate transition. */
function replay(seen: readonly Seen[]): Map<string, string> {
  const state = new Map<string, string>();
  for (const event of seen) {
    const current = state.get(event.key);
    switch (event.type) {
      case 'add':
        expect(current, `add of ${event.key} already present`).toBeUndefined();
        state.set(event.key, event.rv);
        break;
      case 'update':
        expect(current, `update of ${event.key} not present`).toBe(event.oldRv);
        expect(event.rv, `update of ${event.key} without change`).not.toBe(event.oldRv);
        state.set(event.key, event.rv);
        break;
      case 'delete':
        expect(current, `delete of ${event.key} not present`).toBeDefined();
        state.delete(event.key);
        break;
    }
  }
  return state;
}

function cached(informer: Informer<FakeObject>): Map<string, string> {
  return new Map(informer.store.list().map((o) => [objectKey(o), o.metadata.resourceVersion]));
}

describe('Informer', () => {
  it('should list page by page, then watch from the list resourceVersion with bookmarks', async () => {
    const { server, informer, settle } = setup();
    for (const name of ['a', 'b', 'c', 'd', 'e']) server.create('ns', name);
    informer.start();
    await settle();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.store.size).toBe(5);
    const lists = server.requests.filter((r) => r.query.watch === undefined);
    expect(lists.map((r) => r.query.limit)).toEqual([2, 2, 2]);
    const watch = server.requests.find((r) => r.query.watch === true);
    expect(watch?.query).toMatchObject({ resourceVersion: String(server.rv), allowWatchBookmarks: true });
    await informer.stop();
  });

  it('should apply watch events to the cache and hand them to handlers', async () => {
    const { server, informer, seen, settle } = setup();
    server.create('ns', 'a');
    informer.start();
    await settle();
    server.create('ns', 'b');
    server.update('ns', 'a', { k: 'v' });
    server.delete('ns', 'b');
    await settle();
    expect(seen.map((s) => `${s.type} ${s.key}`)).toEqual([
      'add ns/a',
      'add ns/b',
      'update ns/a',
      'delete ns/b',
    ]);
    expect(cached(informer)).toEqual(server.snapshot());
    await informer.stop();
  });

  it('should resume from the last resourceVersion after a disconnect, without relisting', async () => {
    const { server, informer, seen, settle } = setup();
    server.create('ns', 'a');
    informer.start();
    await settle();
    server.disconnectAll();
    server.update('ns', 'a', { k: '1' });
    await settle();
    expect(server.requests.filter((r) => r.query.watch === undefined)).toHaveLength(1);
    expect(seen.map((s) => s.type)).toEqual(['add', 'update']);
    await informer.stop();
  });

  it('should resume from a bookmark resourceVersion', async () => {
    const { server, informer, settle } = setup({ namespaces: ['ns'] });
    informer.start();
    await settle();
    server.create('other', 'x'); // advances the resourceVersion; not visible in ns
    server.bookmark();
    await settle();
    server.disconnectAll();
    await settle();
    const watches = server.requests.filter((r) => r.query.watch === true);
    expect(watches.at(-1)?.query.resourceVersion).toBe(String(server.rv));
    await informer.stop();
  });

  it.each(['event', 'status'] as const)(
    'should relist on 410 Gone (as %s) and hand handlers exactly the changes they missed',
    async (goneAs) => {
      const { server, informer, seen, settle } = setup();
      server.goneAs = goneAs;
      server.create('ns', 'kept');
      server.create('ns', 'changed');
      server.create('ns', 'deleted');
      server.create('ns', 'recreated');
      informer.start();
      await settle();
      server.disconnectAll();
      server.update('ns', 'changed', { v: '2' });
      server.delete('ns', 'deleted');
      server.create('ns', 'added');
      server.delete('ns', 'recreated');
      server.create('ns', 'recreated');
      server.compact();
      await settle();
      const after = seen.slice(4).map((s) => `${s.type} ${s.key}`);
      expect(after.sort()).toEqual(
        [
          'add ns/added',
          'add ns/recreated',
          'delete ns/deleted',
          'delete ns/recreated',
          'update ns/changed',
        ].sort(),
      );
      expect(cached(informer)).toEqual(server.snapshot());
      expect(replay(seen)).toEqual(server.snapshot());
      await informer.stop();
    },
  );

  it('should back off instead of spinning when every fresh list expires at once', async () => {
    const { clock, server, informer, lists, settle } = setup({
      backoff: { baseMs: 1000, maxMs: 1000, jitter: 'none' },
    });
    informer.start();
    await settle();
    server.compactedBelow = Number.MAX_SAFE_INTEGER; // every watch answers 410
    server.disconnectAll();
    await settle();
    await clock.advance(5_000);
    expect(lists.length).toBeGreaterThan(2);
    expect(lists.length).toBeLessThan(10);
    server.compactedBelow = 0;
    await informer.stop();
  });

  it('should restart a paginated list whose continue token expired', async () => {
    const { server, informer, settle } = setup({ pageSize: 1 });
    for (const name of ['a', 'b', 'c']) server.create('ns', name);
    const original = server.http.json.bind(server.http);
    let pages = 0;
    server.http.json = <T>(path: string, request?: Parameters<typeof original>[1]) => {
      if (++pages === 2) server.compact(); // the snapshot behind the first page's token is gone
      return original<T>(path, request);
    };
    informer.start();
    await settle();
    expect(informer.hasSynced()).toBe(true);
    expect(cached(informer)).toEqual(server.snapshot());
    await informer.stop();
  });

  it('should reconnect with capped exponential backoff while the API server fails', async () => {
    const { clock, server, informer, settle } = setup({
      backoff: { baseMs: 1000, maxMs: 4000, jitter: 'none' },
    });
    server.failNext = 5;
    informer.start();
    await settle();
    const times: number[] = [];
    const start = clock.now();
    for (let ms = 0; ms < 20_000 && !informer.hasSynced(); ms += 100) {
      const before = server.requests.length;
      await clock.advance(100);
      if (server.requests.length > before) times.push(clock.now() - start);
    }
    expect(informer.hasSynced()).toBe(true);
    // Failures at 0; retries after 1 s, 2 s, 4 s, 4 s, 4 s.
    expect(times).toEqual([1000, 3000, 7000, 11_000, 15_000]);
    await informer.stop();
  });

  it('should keep several namespaces apart: a relist of one never deletes the other', async () => {
    const { server, informer, seen, settle } = setup({ namespaces: ['a', 'b'] });
    server.create('a', 'x');
    server.create('b', 'y');
    server.create('c', 'ignored');
    informer.start();
    await settle();
    expect([...cached(informer).keys()].sort()).toEqual(['a/x', 'b/y']);
    server.disconnectAll();
    server.update('a', 'x', { v: '2' });
    server.compact();
    await settle();
    expect(seen.filter((s) => s.type === 'delete')).toEqual([]);
    expect(cached(informer)).toEqual(new Map([...server.snapshot('a'), ...server.snapshot('b')]));
    expect(informer.store.byNamespace('b').map((o) => o.metadata.name)).toEqual(['y']);
    await informer.stop();
  });

  it('should ask for PartialObjectMetadata and cache no data in metadata-only mode', async () => {
    const { server, informer, settle } = setup({ metadataOnly: true });
    server.create('ns', 'a', { password: 'hunter2' });
    informer.start();
    await settle();
    server.create('ns', 'b', { password: 'hunter2' });
    await settle();
    expect(server.requests.find((r) => r.query.watch === undefined)?.accept).toBe(METADATA_LIST_ACCEPT);
    expect(server.requests.find((r) => r.query.watch === true)?.accept).toBe(METADATA_OBJECT_ACCEPT);
    expect(informer.store.size).toBe(2);
    expect(JSON.stringify(informer.store.list())).not.toContain('hunter2');
    await informer.stop();
  });

  it('should keep only metadata even when the server ignores the metadata Accept header', async () => {
    const server = new FakeApiServer();
    const original = server.http.json.bind(server.http);
    server.http.json = <T>(path: string, request?: Parameters<typeof original>[1]) =>
      original<T>(path, { ...request, accept: 'application/json' });
    const { informer, settle } = setup({ metadataOnly: true }, server);
    server.create('ns', 'a', { password: 'hunter2' });
    informer.start();
    await settle();
    expect(informer.store.size).toBe(1);
    expect(JSON.stringify(informer.store.list())).not.toContain('hunter2');
    await informer.stop();
  });

  it('should hand objects already cached to handlers added late, as adds', async () => {
    const { server, informer, settle } = setup();
    server.create('ns', 'a');
    informer.start();
    await settle();
    const late: string[] = [];
    informer.addHandlers({ onAdd: (o) => late.push(objectKey(o)) });
    expect(late).toEqual(['ns/a']);
    await informer.stop();
  });

  it('should survive a handler that throws', async () => {
    const { server, informer, seen, settle } = setup();
    informer.addHandlers({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.start();
    await settle();
    server.create('ns', 'a');
    await settle();
    expect(seen.map((s) => s.key)).toEqual(['ns/a']);
    await informer.stop();
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'should converge on the server state with no lost or duplicate event (random history, seed %i)',
    async (seed) => {
      const random = seeded(seed);
      const server = new FakeApiServer();
      const { clock, informer, seen, settle, lists } = setup(
        { namespaces: seed % 2 === 0 ? [] : ['n0', 'n1'] },
        server,
      );
      const names = ['a', 'b', 'c', 'd', 'e', 'f'];
      const namespaces = ['n0', 'n1', 'n2'];
      informer.start();
      for (let step = 0; step < 200; step++) {
        const ns = namespaces[Math.floor(random() * namespaces.length)] ?? 'n0';
        const name = names[Math.floor(random() * names.length)] ?? 'a';
        const exists = server.objects.has(`${ns}/${name}`);
        const roll = random();
        if (roll < 0.35) {
          if (exists) server.update(ns, name, { step: String(step) });
          else server.create(ns, name);
        } else if (roll < 0.55) {
          if (exists) server.delete(ns, name);
        } else if (roll < 0.65) server.disconnectAll(random() < 0.5 ? 'close' : 'error');
        else if (roll < 0.72) server.compact();
        else if (roll < 0.8) server.bookmark();
        else if (roll < 0.85) await settle();
        else if (roll < 0.9) await clock.advance(1_000);
      }
      server.disconnectAll();
      // Past any reconnect backoff.
      for (let i = 0; i < 10; i++) await clock.advance(5_000);
      const expected =
        seed % 2 === 0 ? server.snapshot() : new Map([...server.snapshot('n0'), ...server.snapshot('n1')]);
      expect(cached(informer)).toEqual(expected);
      expect(replay(seen)).toEqual(expected);
      // The history did force relists (410) and reconnects, not only a quiet watch.
      expect(lists.filter((reason) => reason === 'expired').length).toBeGreaterThan(0);
      await informer.stop();
    },
  );
});
