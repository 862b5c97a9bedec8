// The informer's cache (client-go's thread-safe store + indexer): objects by key (namespace/name), by
// namespace, and by custom indexes such as "connections that reference Secret ns/x". Objects are stored
// as received — no copies — so callers must treat them as read-only.
import { objectKey, type KubeObject } from './types.ts';

/** Maps an object to the index values it is found under (e.g. the keys of the Secrets it references). */
export type IndexFunction<T> = (object: T) => readonly string[];

/** What changed between the cache and a fresh list. */
export interface StoreDelta<T> {
  added: T[];
  updated: { old: T; new: T }[];
  deleted: T[];
}

/** The read side of a store, as handed to controllers and mapping functions. */
export interface ReadonlyStore<T> {
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  /** Objects in one namespace ('' for cluster-scoped ones). */
  byNamespace(namespace: string): T[];
  /** Objects whose index `name` produced `value`. */
  byIndex(name: string, value: string): T[];
  /** The keys of those objects. */
  keysByIndex(name: string, value: string): string[];
  readonly size: number;
}

/**
 * The deletes, adds and updates that turn `current` into `listed` (after a relist): objects that
 * disappeared, appeared, or changed (by resourceVersion; a new uid under the same name is a delete and an
 * add). `inScope` limits deletions to the part of the
 * cache the list covers (one namespace of several). Pure: neither argument is modified.
 */
export function relistDelta<T extends KubeObject>(
  current: ReadonlyMap<string, T>,
  listed: readonly T[],
  inScope: (object: T) => boolean = () => true,
): StoreDelta<T> {
  const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
  const seen = new Set<string>();
  for (const object of listed) {
    const key = objectKey(object);
    seen.add(key);
    const previous = current.get(key);
    if (previous === undefined) delta.added.push(object);
    else if (previous.metadata?.uid !== object.metadata?.uid) {
      // Deleted and re-created under the same name while we were not watching: two changes, not one.
      delta.deleted.push(previous);
      delta.added.push(object);
    } else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
      delta.updated.push({ old: previous, new: object });
    }
  }
  for (const [key, object] of current) {
    if (!seen.has(key) && inScope(object)) delta.deleted.push(object);
  }
  return delta;
}

const NAMESPACE_INDEX = '\u0000namespace';

export class Store<T extends KubeObject> implements ReadonlyStore<T> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunction<T>>();
  /** index name -> index value -> keys (one key as a string: most values name one object) */
  readonly #indices = new Map<string, Map<string, IndexEntry>>();
  readonly #onIndexError: (index: string, error: unknown) => void;

  /** onIndexError: an index function threw (the object is then not found under that index). */
  constructor(options: { onIndexError?: (index: string, error: unknown) => void } = {}) {
    this.#onIndexError = options.onIndexError ?? (() => undefined);
    this.addIndex(NAMESPACE_INDEX, (object) => [object.metadata?.namespace ?? '']);
  }

  /** Adds an index; existing objects are indexed at once. */
  addIndex(name: string, indexFunction: IndexFunction<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index ${name} already exists`);
    // A throwing index function must not leave the cache half-updated.
    const index = (object: T): readonly string[] => {
      try {
        return indexFunction(object);
      } catch (error) {
        this.#onIndexError(name, error);
        return [];
      }
    };
    this.#indexers.set(name, index);
    const values = new Map<string, IndexEntry>();
    this.#indices.set(name, values);
    for (const [key, object] of this.#items) addToIndex(values, index(object), key);
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

  /** A read-only view of the contents (for relistDelta). */
  get contents(): ReadonlyMap<string, T> {
    return this.#items;
  }

  byNamespace(namespace: string): T[] {
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(name: string, value: string): T[] {
    const objects: T[] = [];
    for (const key of this.#keysOf(name, value)) {
      const object = this.#items.get(key);
      if (object !== undefined) objects.push(object);
    }
    return objects;
  }

  keysByIndex(name: string, value: string): string[] {
    return [...this.#keysOf(name, value)];
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const previous = this.#items.get(key);
    this.#items.set(key, object);
    for (const [name, index] of this.#indexers) {
      const values = this.#indices.get(name);
      if (values === undefined) continue;
      const before = previous === undefined ? [] : index(previous);
      const after = index(object);
      if (sameValues(before, after)) continue;
      removeFromIndex(values, before, key);
      addToIndex(values, after, key);
    }
    return previous;
  }

  /** Removes; returns the removed object. */
  remove(key: string): T | undefined {
    const previous = this.#items.get(key);
    if (previous === undefined) return undefined;
    this.#items.delete(key);
    for (const [name, index] of this.#indexers) {
      const values = this.#indices.get(name);
      if (values !== undefined) removeFromIndex(values, index(previous), key);
    }
    return previous;
  }

  /** Applies a relist delta (see relistDelta). */
  apply(delta: StoreDelta<T>): void {
    for (const object of delta.deleted) this.remove(objectKey(object));
    for (const object of delta.added) this.upsert(object);
    for (const { new: object } of delta.updated) this.upsert(object);
  }

  #keysOf(name: string, value: string): Iterable<string> {
    const index = this.#indices.get(name);
    if (index === undefined) throw new Error(`unknown index ${name}`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    return typeof keys === 'string' ? [keys] : keys;
  }
}

/**
 * The keys under one index value. Most values name one object (the Secret a connection reads is read by
 * that connection only), so a single key is kept as itself: a Set per value would cost ~150 bytes per
 * connection and index for nothing.
 */
type IndexEntry = string | Set<string>;

function addToIndex(values: Map<string, IndexEntry>, indexValues: readonly string[], key: string): void {
  for (const value of indexValues) {
    const keys = values.get(value);
    if (keys === undefined) values.set(value, key);
    else if (typeof keys === 'string') {
      if (keys !== key) values.set(value, new Set([keys, key]));
    } else keys.add(key);
  }
}

function removeFromIndex(values: Map<string, IndexEntry>, indexValues: readonly string[], key: string): void {
  for (const value of indexValues) {
    const keys = values.get(value);
    if (keys === undefined) continue;
    if (typeof keys === 'string') {
      if (keys === key) values.delete(value);
      continue;
    }
    keys.delete(key);
    if (keys.size === 1) values.set(value, keys.values().next().value as string);
    else if (keys.size === 0) values.delete(value);
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
