// Per-key exponential backoff with jitter, capped: the delay before retrying a key that failed.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Random source in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

export class KeyBackoff {
  readonly #failures = new Map<string, number>();
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /**
   * The delay before the next retry of key, and counts the failure. "Equal jitter": half the exponential
   * delay is fixed, the other half random, so retries spread out but never collapse to zero.
   */
  next(key: string, atLeastMs = 0): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const exponential = Math.min(this.#options.maxMs, this.#options.baseMs * 2 ** Math.min(failures, 52));
    const delay = exponential / 2 + (exponential / 2) * this.#options.random();
    // A server-requested delay (Retry-After) is honoured, up to six hours against absurd values.
    return Math.max(Math.round(delay), Math.min(atLeastMs, 6 * 3_600_000));
  }

  /** Consecutive failures of key since it last succeeded. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  get size(): number {
    return this.#failures.size;
  }
}
