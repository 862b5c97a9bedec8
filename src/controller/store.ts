// The informer's cache: objects by namespace/name, plus custom indexes (e.g. "connections that
// reference Secret ns/x"). Objects are stored as received (no copies); callers must not mutate them.
import { objectKey, type KubeObject } from './types.ts';

export type IndexFunction<T> = (object: T) => readonly string[];

export interface StoreDelta<T> {
  added: T[];
  updated: { old: T; new: T }[];
  deleted: T[];
}

export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunction<T>>();
  /** index name -> index value -> keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  addIndex(name: string, index: IndexFunction<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.#indexers.set(name, index);
    const values = new Map<string, Set<string>>();
    this.#indices.set(name, values);
    for (const [key, object] of this.#items) this.#indexOne(index, values, key, object);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Objects whose index `name` contains `value`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name);
    if (index === undefined) throw new Error(`unknown index ${name}`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    return [...keys].map((key) => this.#items.get(key)).filter((o): o is T => o !== undefined);
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const previous = this.#items.get(key);
    if (previous !== undefined) this.#unindex(key, previous);
    this.#items.set(key, object);
    this.#index(key, object);
    return previous;
  }

  /** Removes; returns the removed object. */
  remove(key: string): T | undefined {
    const previous = this.#items.get(key);
    if (previous === undefined) return undefined;
    this.#unindex(key, previous);
    this.#items.delete(key);
    return previous;
  }

  /**
   * Replaces the whole content with a fresh list (after a relist), returning exactly what changed: objects
   * that appeared, changed (by resourceVersion) or disappeared while the watch was down.
   */
  replace(objects: readonly T[]): StoreDelta<T> {
    const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const object of objects) {
      const key = objectKey(object);
      seen.add(key);
      const previous = this.#items.get(key);
      if (previous === undefined) delta.added.push(object);
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
        delta.updated.push({ old: previous, new: object });
      } else continue;
      this.upsert(object);
    }
    for (const [key, object] of [...this.#items]) {
      if (!seen.has(key)) {
        this.remove(key);
        delta.deleted.push(object);
      }
    }
    return delta;
  }

  #index(key: string, object: T): void {
    for (const [name, index] of this.#indexers) {
      const values = this.#indices.get(name);
      if (values !== undefined) this.#indexOne(index, values, key, object);
    }
  }

  #indexOne(index: IndexFunction<T>, values: Map<string, Set<string>>, key: string, object: T): void {
    for (const value of index(object)) {
      let keys = values.get(value);
      if (keys === undefined) {
        keys = new Set();
        values.set(value, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, index] of this.#indexers) {
      const values = this.#indices.get(name);
      if (values === undefined) continue;
      for (const value of index(object)) {
        const keys = values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) values.delete(value);
      }
    }
  }
}
