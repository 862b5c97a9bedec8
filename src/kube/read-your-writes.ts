// Read-your-writes over an informer's cache. The informer sees our writes a moment after we make them;
// a reconcile that runs in between (often triggered by that very write) must not mistake the older
// cached copy for the truth: it would request a token twice, see its own Secret as foreign, or patch a
// status it has just patched.
import type { Clock } from '../clock.ts';
import type { Store } from '../controller/store.ts';

/** How long a written copy may stand in for a cache that has not caught up. */
const MEMO_TTL_MS = 10_000;

interface Versioned {
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
}

export interface WrittenView<T> {
  get(key: string): T | undefined;
  /** Records what a write returned (it carries the new resourceVersion). */
  wrote(object: T): void;
  /**
   * Runs `write`, a write of the object under `key` that calls wrote() with its result: watch events for
   * that key that arrive while it is on the wire are held by claim() until the result is known.
   */
  writing<R>(key: string, write: () => Promise<R>): Promise<R>;
}

export interface ReadYourWritesOptions {
  /**
   * Whether an object missing from the cache is gone (true: a connection we wrote the status of and
   * that was deleted since) or may be a create the cache has not seen yet (false: our own Secrets).
   */
  absentMeansGone: boolean;
}

/** Whether resourceVersion a is at least b. They are etcd revisions in practice; otherwise only equality is known. */
function atLeast(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

function keyOf(object: Versioned): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

export class ReadYourWrites<T extends Versioned> implements WrittenView<T> {
  readonly #cache: Pick<Store<T>, 'get'>;
  readonly #clock: Clock;
  readonly #options: ReadYourWritesOptions;
  readonly #memo = new Map<string, { object: T; at: number }>();
  /**
   * The resourceVersion of each recent write, by key, kept after its memo is gone: several informers may
   * report the same write (coffre's own Secrets, and every Secret's metadata), each after the memo was
   * dropped by the first. Dropped when a later version is seen, or after the memo's TTL.
   */
  readonly #written = new Map<string, { resourceVersion: string; at: number }>();
  /** Writes on the wire, by key, and the watch events that arrived meanwhile (see claim). */
  readonly #pending = new Map<
    string,
    { writers: number; held: { resourceVersion: string | undefined; release: () => void }[] }
  >();
  #swept = 0;

  constructor(cache: Pick<Store<T>, 'get'>, clock: Clock, options: ReadYourWritesOptions) {
    this.#cache = cache;
    this.#clock = clock;
    this.#options = options;
  }

  get(key: string): T | undefined {
    const cached = this.#cache.get(key);
    const memo = this.#memo.get(key);
    if (memo === undefined) return cached;
    const stale =
      this.#clock.now() - memo.at >= MEMO_TTL_MS ||
      (cached === undefined && this.#options.absentMeansGone) ||
      (cached !== undefined && cached.metadata?.uid !== memo.object.metadata?.uid) ||
      atLeast(cached?.metadata?.resourceVersion, memo.object.metadata?.resourceVersion);
    if (stale) {
      this.#memo.delete(key);
      return cached;
    }
    return memo.object;
  }

  /**
   * The informer reported `object`: a copy we wrote that it has caught up with is no longer needed. Without
   * this a memo would stay until the next write sweeps it — after a burst, a second copy of every object.
   */
  observed(object: Versioned): void {
    const key = keyOf(object);
    const written = this.#written.get(key);
    if (written !== undefined && written.resourceVersion !== object.metadata?.resourceVersion) {
      if (atLeast(object.metadata?.resourceVersion, written.resourceVersion)) this.#written.delete(key);
    }
    const memo = this.#memo.get(key);
    if (memo === undefined) return;
    if (
      object.metadata?.uid !== memo.object.metadata?.uid ||
      atLeast(object.metadata?.resourceVersion, memo.object.metadata?.resourceVersion)
    ) {
      this.#memo.delete(key);
    }
  }

  /** Registers observed() with the informer whose store this view reads. */
  follow(informer: {
    addHandlers(handlers: {
      onAdd?(o: Versioned): void;
      onUpdate?(old: Versioned, o: Versioned): void;
    }): void;
  }): this {
    informer.addHandlers({
      onAdd: (object) => {
        this.observed(object);
      },
      onUpdate: (_old, object) => {
        this.observed(object);
      },
    });
    return this;
  }

  wrote(object: T): void {
    const now = this.#clock.now();
    // Copies of objects nobody reads again (a deleted connection's Secret) go once they are stale.
    if (now - this.#swept >= MEMO_TTL_MS) {
      this.#swept = now;
      for (const [key, memo] of this.#memo) if (now - memo.at >= MEMO_TTL_MS) this.#memo.delete(key);
      for (const [key, written] of this.#written)
        if (now - written.at >= MEMO_TTL_MS) this.#written.delete(key);
    }
    const key = keyOf(object);
    this.#memo.set(key, { object, at: now });
    const resourceVersion = object.metadata?.resourceVersion;
    if (resourceVersion === undefined) this.#written.delete(key);
    else this.#written.set(key, { resourceVersion, at: now });
  }

  /**
   * A watch event about `object`, for a controller deciding whether to queue its dependents: true when
   * this view takes it — it is our own write (dropped), or a write of that key is on the wire (held:
   * `release` is called once the write's result shows the event was not its own version). The watch
   * often reports a write before the writer has read the response that names its version.
   */
  claim(object: Versioned, release: () => void): boolean {
    const key = keyOf(object);
    const resourceVersion = object.metadata?.resourceVersion;
    if (this.#isOwnVersion(key, resourceVersion)) return true;
    const pending = this.#pending.get(key);
    if (pending === undefined) return false;
    pending.held.push({ resourceVersion, release });
    return true;
  }

  async writing<R>(key: string, write: () => Promise<R>): Promise<R> {
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = { writers: 0, held: [] };
      this.#pending.set(key, pending);
    }
    pending.writers += 1;
    try {
      return await write();
    } finally {
      pending.writers -= 1;
      if (pending.writers === 0) {
        this.#pending.delete(key);
        for (const held of pending.held) {
          if (!this.#isOwnVersion(key, held.resourceVersion)) held.release();
        }
      }
    }
  }

  /** Whether `resourceVersion` is the one this process last wrote under `key`, within the memo's TTL. */
  #isOwnVersion(key: string, resourceVersion: string | undefined): boolean {
    const written = this.#written.get(key);
    return (
      written !== undefined &&
      written.resourceVersion === resourceVersion &&
      this.#clock.now() - written.at < MEMO_TTL_MS
    );
  }

  /** How many written copies are held (for tests). */
  get size(): number {
    return this.#memo.size;
  }
}
