// Several informers of one resource (one per watched namespace) seen as one: one event stream, one
// lookup, one index query. With a single informer (all namespaces) it is a transparent wrapper.
import type { EventSource } from './controller.ts';
import type { Informer, InformerHandlers } from './informer.ts';
import type { IndexFunction } from './store.ts';
import type { KubeObject } from './types.ts';

export class InformerGroup<T extends KubeObject> implements EventSource<T> {
  readonly informers: readonly Informer<T>[];
  readonly store: {
    keys(): string[];
    get(key: string): T | undefined;
    byIndex(name: string, value: string): T[];
    readonly size: number;
  };

  constructor(informers: readonly Informer<T>[]) {
    if (informers.length === 0) throw new Error('an informer group needs at least one informer');
    this.informers = informers;
    this.store = {
      keys: () => informers.flatMap((i) => i.store.keys()),
      get: (key) => {
        for (const informer of informers) {
          const found = informer.store.get(key);
          if (found !== undefined) return found;
        }
        return undefined;
      },
      byIndex: (name, value) => informers.flatMap((i) => i.store.byIndex(name, value)),
      get size() {
        return informers.reduce((sum, i) => sum + i.store.size, 0);
      },
    };
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    for (const informer of this.informers) informer.addHandlers(handlers);
  }

  addIndex(name: string, index: IndexFunction<T>): void {
    for (const informer of this.informers) informer.store.addIndex(name, index);
  }
}
