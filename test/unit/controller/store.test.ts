import { describe, expect, it } from 'vitest';
import { Store } from '../../../src/controller/store.ts';
import type { KubeObject } from '../../../src/controller/types.ts';

function object(
  name: string,
  resourceVersion: string,
  secret?: string,
): KubeObject & { spec?: { ref?: string } } {
  return {
    metadata: { namespace: 'ns', name, resourceVersion },
    ...(secret === undefined ? {} : { spec: { ref: secret } }),
  };
}

const bySecret = (o: KubeObject & { spec?: { ref?: string } }) =>
  o.spec?.ref === undefined ? [] : [`ns/${o.spec.ref}`];

describe('Store', () => {
  it('should keep indexes in step with upserts and removals', () => {
    const store = new Store<ReturnType<typeof object>>();
    store.addIndex('secret', bySecret);
    store.upsert(object('a', '1', 's1'));
    store.upsert(object('b', '1', 's1'));
    expect(
      store
        .byIndex('secret', 'ns/s1')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b']);
    store.upsert(object('a', '2', 's2'));
    expect(store.byIndex('secret', 'ns/s1').map((o) => o.metadata?.name)).toEqual(['b']);
    expect(store.byIndex('secret', 'ns/s2').map((o) => o.metadata?.name)).toEqual(['a']);
    store.remove('ns/b');
    expect(store.byIndex('secret', 'ns/s1')).toEqual([]);
  });

  it('should index objects that were there before the index was added', () => {
    const store = new Store<ReturnType<typeof object>>();
    store.upsert(object('a', '1', 's1'));
    store.addIndex('secret', bySecret);
    expect(store.byIndex('secret', 'ns/s1')).toHaveLength(1);
  });

  it('should refuse an unknown index', () => {
    expect(() => new Store().byIndex('nope', 'x')).toThrow('unknown index nope');
  });

  it('should report exactly what changed when a relist replaces the content', () => {
    const store = new Store<ReturnType<typeof object>>();
    store.addIndex('secret', bySecret);
    for (const o of [object('same', '1'), object('changed', '1', 's1'), object('gone', '1')]) store.upsert(o);
    const delta = store.replace([object('same', '1'), object('changed', '2', 's2'), object('new', '5')]);
    expect(delta.added.map((o) => o.metadata?.name)).toEqual(['new']);
    expect(
      delta.updated.map((u) => [u.old.metadata?.resourceVersion, u.new.metadata?.resourceVersion]),
    ).toEqual([['1', '2']]);
    expect(delta.deleted.map((o) => o.metadata?.name)).toEqual(['gone']);
    expect(store.keys().sort()).toEqual(['ns/changed', 'ns/new', 'ns/same']);
    expect(store.byIndex('secret', 'ns/s1')).toEqual([]);
    expect(store.byIndex('secret', 'ns/s2')).toHaveLength(1);
  });
});
