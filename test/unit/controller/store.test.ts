import { describe, expect, it } from 'vitest';
import { relistDelta, Store } from '../../../src/controller/store.ts';
import { objectKey, type KubeObject } from '../../../src/controller/types.ts';

type Obj = KubeObject & { spec?: { refs?: string[] } };

function obj(
  namespace: string,
  name: string,
  resourceVersion: string,
  refs: string[] = [],
  uid = `${namespace}/${name}`,
): Obj {
  return { metadata: { namespace, name, resourceVersion, uid }, spec: { refs } };
}

const byRef = (o: Obj) => (o.spec?.refs ?? []).map((ref) => `${o.metadata?.namespace ?? ''}/${ref}`);

function names(objects: readonly Obj[]): string[] {
  return objects.map(objectKey).sort();
}

describe('relistDelta', () => {
  const current = new Map<string, Obj>(
    [
      obj('ns', 'same', '1'),
      obj('ns', 'changed', '1'),
      obj('ns', 'gone', '1'),
      obj('other', 'gone', '1'),
      obj('ns', 'recreated', '1'),
    ].map((o) => [objectKey(o), o]),
  );

  it.each([
    {
      title: 'an unchanged list yields nothing',
      listed: [...current.values()],
      scope: undefined,
      expected: { added: [], updated: [], deleted: [] },
    },
    {
      title: 'appeared, changed, disappeared and re-created objects are reported once each',
      listed: [
        obj('ns', 'same', '1'),
        obj('ns', 'changed', '2'),
        obj('ns', 'new', '5'),
        obj('ns', 'recreated', '7', [], 'new-uid'),
      ],
      scope: undefined,
      expected: {
        added: ['ns/new', 'ns/recreated'],
        updated: ['ns/changed'],
        deleted: ['ns/gone', 'ns/recreated', 'other/gone'],
      },
    },
    {
      title: 'deletions stay within the listed scope (one namespace of several)',
      listed: [obj('ns', 'same', '1'), obj('ns', 'changed', '1'), obj('ns', 'recreated', '1')],
      scope: (o: Obj) => o.metadata?.namespace === 'ns',
      expected: { added: [], updated: [], deleted: ['ns/gone'] },
    },
    {
      title: 'an empty list deletes everything in scope',
      listed: [],
      scope: undefined,
      expected: {
        added: [],
        updated: [],
        deleted: ['ns/changed', 'ns/gone', 'ns/recreated', 'ns/same', 'other/gone'],
      },
    },
  ])('should compute the exact changes: $title', ({ listed, scope, expected }) => {
    const before = new Map(current);
    const delta = relistDelta(current, listed, scope);
    expect({
      added: names(delta.added),
      updated: names(delta.updated.map((u) => u.new)),
      deleted: names(delta.deleted),
    }).toEqual(expected);
    for (const { old, new: updated } of delta.updated) expect(old).toBe(current.get(objectKey(updated)));
    expect(current).toEqual(before);
  });

  it('should turn the store into exactly the listed objects when applied', () => {
    const store = new Store<Obj>();
    for (const o of current.values()) store.upsert(o);
    const listed = [
      obj('ns', 'same', '1'),
      obj('ns', 'changed', '2'),
      obj('ns', 'recreated', '7', [], 'new-uid'),
      obj('x', 'y', '3'),
    ];
    store.apply(relistDelta(store.contents, listed));
    expect(store.list().sort((a, b) => objectKey(a).localeCompare(objectKey(b)))).toEqual(
      [...listed].sort((a, b) => objectKey(a).localeCompare(objectKey(b))),
    );
    expect(store.get('ns/recreated')?.metadata?.uid).toBe('new-uid');
  });
});

describe('Store', () => {
  it('should keep objects as received, without copies', () => {
    const store = new Store<Obj>();
    const o = obj('ns', 'a', '1');
    store.upsert(o);
    expect(store.get('ns/a')).toBe(o);
    expect(store.byNamespace('ns')[0]).toBe(o);
  });

  it('should find objects by a custom index, indexing objects cached before the index was added', () => {
    const store = new Store<Obj>();
    store.upsert(obj('ns', 'a', '1', ['s1']));
    store.addIndex('secret', byRef);
    store.upsert(obj('ns', 'b', '1', ['s1', 's2']));
    expect(names(store.byIndex('secret', 'ns/s1'))).toEqual(['ns/a', 'ns/b']);
    expect(store.keysByIndex('secret', 'ns/s2')).toEqual(['ns/b']);
    expect(store.byIndex('secret', 'ns/none')).toEqual([]);
    expect(() => store.byIndex('missing', 'x')).toThrow(/unknown index/);
  });

  it('should survive an index function that throws, and report it', () => {
    const errors: string[] = [];
    const store = new Store<Obj>({ onIndexError: (index) => errors.push(index) });
    store.addIndex('bad', () => {
      throw new Error('bug');
    });
    store.upsert(obj('ns', 'a', '1'));
    expect(store.get('ns/a')).toBeDefined();
    expect(errors).toEqual(['bad']);
  });

  it('should keep indexes equal to a recomputation after any sequence of upserts and removals (random)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const store = new Store<Obj>();
    store.addIndex('secret', byRef);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    for (let step = 0; step < 3000; step++) {
      const ns = pick(['n1', 'n2']);
      const name = pick(['a', 'b', 'c', 'd']);
      if (random() < 0.7) {
        const refs = ['s1', 's2', 's3'].filter(() => random() < 0.4);
        store.upsert(obj(ns, name, String(step), refs));
      } else store.remove(`${ns}/${name}`);
      if (step % 100 === 0) {
        for (const ns2 of ['n1', 'n2']) {
          expect(names(store.byNamespace(ns2))).toEqual(
            names(store.list().filter((o) => o.metadata?.namespace === ns2)),
          );
          for (const ref of ['s1', 's2', 's3']) {
            const value = `${ns2}/${ref}`;
            expect(names(store.byIndex('secret', value))).toEqual(
              names(store.list().filter((o) => byRef(o).includes(value))),
            );
          }
        }
      }
    }
  });
});
