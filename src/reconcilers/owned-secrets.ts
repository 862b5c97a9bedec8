// Read-your-writes over the cache of coffre's own Secrets. The informer sees our writes a moment after
// we make them; a reconcile that runs in between (triggered by that very write) must not mistake the
// older cached copy for the truth — it would request a token twice or see its own Secret as foreign.
import type { V1Secret } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import type { Store } from '../controller/store.ts';

/** How long a written copy may stand in for a cache that has not caught up. */
const MEMO_TTL_MS = 10_000;

export interface OwnedSecretView {
  get(key: string): V1Secret | undefined;
  /** Records what a write returned (it carries the new resourceVersion). */
  wrote(secret: V1Secret): void;
}

/** Whether resourceVersion a is at least b. They are etcd revisions in practice; otherwise only equality is known. */
function atLeast(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

export class OwnedSecrets implements OwnedSecretView {
  readonly #cache: Pick<Store<V1Secret>, 'get'>;
  readonly #clock: Clock;
  readonly #memo = new Map<string, { secret: V1Secret; at: number }>();

  constructor(cache: Pick<Store<V1Secret>, 'get'>, clock: Clock) {
    this.#cache = cache;
    this.#clock = clock;
  }

  get(key: string): V1Secret | undefined {
    const cached = this.#cache.get(key);
    const memo = this.#memo.get(key);
    if (memo === undefined) return cached;
    const fresh = this.#clock.now() - memo.at < MEMO_TTL_MS;
    if (!fresh || atLeast(cached?.metadata?.resourceVersion, memo.secret.metadata?.resourceVersion)) {
      this.#memo.delete(key);
      return cached;
    }
    return memo.secret;
  }

  wrote(secret: V1Secret): void {
    const key = `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
    this.#memo.set(key, { secret, at: this.#clock.now() });
  }
}
