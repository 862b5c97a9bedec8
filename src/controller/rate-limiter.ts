// Per-key exponential backoff with jitter and a cap: how long a key that keeps failing waits before its
// next attempt (client-go's ItemExponentialFailureRateLimiter, with jitter so that many keys failing
// together — an API server outage — do not retry in lockstep).

// The policy type lives with the defaults (src/defaults.ts), which must import nothing of the runtime.
import type { BackoffPolicy } from '../defaults.ts';

export type { BackoffPolicy };
export type Jitter = BackoffPolicy['jitter'];

/**
 * The delay after the `failures`-th consecutive failure (1 = the first): min(max, base·2^(failures-1))
 * with jitter, and at least `atLeastMs` (a Retry-After) when that is larger. Pure.
 */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number,
  atLeastMs = 0,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 60);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  let delay: number;
  switch (policy.jitter) {
    case 'full':
      delay = ceiling * random();
      break;
    case 'equal':
      delay = ceiling / 2 + (ceiling / 2) * random();
      break;
    case 'none':
      delay = ceiling;
      break;
  }
  const requested = Math.min(Math.max(atLeastMs, 0), policy.maxRetryAfterMs);
  return Math.round(Math.max(delay, requested));
}

/** Counts consecutive failures per key and turns them into delays. */
export class KeyedBackoff {
  readonly #failures = new Map<string, number>();
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;

  constructor(policy: BackoffPolicy, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Counts a failure of key and returns the delay before its next attempt. */
  next(key: string, atLeastMs = 0): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return backoffDelay(failures, this.#policy, this.#random, atLeastMs);
  }

  /** Consecutive failures of key since it last succeeded (or was forgotten). */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Resets key: its next failure starts again at the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Keys with at least one recorded failure. */
  get size(): number {
    return this.#failures.size;
  }
}
