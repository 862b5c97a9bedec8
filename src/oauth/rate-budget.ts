// A request budget per token-endpoint host, so that many connections to one server cannot stampede
// it: at most `maxConcurrent` requests in flight, and a token bucket (`ratePerSecond`, `burst`).
// When the server answers 429 the host is held until its Retry-After (or a default penalty), the rate
// is halved, and it recovers linearly to the configured rate over `recoveryMs`. Callers never wait
// long inside the engine: a held host, a full queue, or a wait beyond `maxWaitMs` is a `rate_limited`
// OAuthError with `retryAfterMs`, for the reconciler to requeue. Time comes from the injected clock.
import type { Clock, TimerHandle } from '../clock.ts';
import { OAuthError } from './errors.ts';

export const RATE_BUDGET_DEFAULTS = {
  maxConcurrent: 4,
  ratePerSecond: 10,
  burst: 20,
  /** The longest a caller waits for a slot before getting rate_limited. */
  maxWaitMs: 2_000,
  maxQueue: 256,
  /** Hold after a 429 without Retry-After. */
  defaultPenaltyMs: 1_000,
  /** Time to return from the slowed rate to the configured one after a hold ends. */
  recoveryMs: 60_000,
  /** The slowest the rate goes after repeated 429s. */
  minRatePerSecond: 0.1,
} as const;

export type RateBudgetOptions = Partial<Record<keyof typeof RATE_BUDGET_DEFAULTS, number>> & { clock: Clock };

export interface Permit {
  /** Frees the concurrency slot; idempotent. */
  release(): void;
}

export interface HostBudgetState {
  inFlight: number;
  queued: number;
  /** Epoch ms until which the host is held after a 429; 0 when not held. */
  heldUntil: number;
  ratePerSecond: number;
}

export interface RateBudget {
  acquire(host: string): Promise<Permit>;
  /** The host answered 429: hold it for retryAfterMs (or the default penalty) and slow down. */
  penalize(host: string, retryAfterMs?: number): void;
  state(host: string): HostBudgetState;
  /** Rejects queued callers and cancels timers. */
  close(): void;
}

interface Waiter {
  resolve(permit: Permit): void;
  reject(error: OAuthError): void;
  timeout: TimerHandle;
}

interface HostState {
  inFlight: number;
  /** When each request in flight got its permit (oldest first), to tell a stuck host from a busy one. */
  startedAt: number[];
  tokens: number;
  refilledAt: number;
  heldUntil: number;
  /** The rate right after the last 429, from which recovery starts at heldUntil. */
  slowedRate: number | undefined;
  queue: Waiter[];
  wake: TimerHandle | undefined;
}

export function createRateBudget(options: RateBudgetOptions): RateBudget {
  const settings = { ...RATE_BUDGET_DEFAULTS, ...options };
  const { clock } = options;
  const hosts = new Map<string, HostState>();

  function hostState(host: string): HostState {
    let state = hosts.get(host);
    if (state === undefined) {
      state = {
        inFlight: 0,
        startedAt: [],
        tokens: settings.burst,
        refilledAt: clock.now(),
        heldUntil: 0,
        slowedRate: undefined,
        queue: [],
        wake: undefined,
      };
      hosts.set(host, state);
      forgetIdleHosts();
    }
    return state;
  }

  function forgetIdleHosts(): void {
    if (hosts.size <= 1000) return;
    for (const [host, state] of hosts) {
      if (state.inFlight === 0 && state.queue.length === 0 && state.heldUntil <= clock.now())
        hosts.delete(host);
    }
  }

  function currentRate(state: HostState, now: number): number {
    if (state.slowedRate === undefined) return settings.ratePerSecond;
    const progress = Math.max(0, now - state.heldUntil) / settings.recoveryMs;
    if (progress >= 1) {
      state.slowedRate = undefined;
      return settings.ratePerSecond;
    }
    return state.slowedRate + (settings.ratePerSecond - state.slowedRate) * progress;
  }

  /** Adds the tokens earned since the last refill, none while the host was held. */
  function refill(state: HostState, now: number): void {
    const from = Math.max(state.refilledAt, state.heldUntil);
    if (now > from) {
      state.tokens = Math.min(settings.burst, state.tokens + ((now - from) / 1000) * currentRate(state, now));
    }
    state.refilledAt = Math.max(state.refilledAt, now);
  }

  function rateLimited(host: string, retryAfterMs: number, why: string): OAuthError {
    return new OAuthError('rate_limited', `requests to ${host} are ${why}`, {
      retryAfterMs: Math.ceil(retryAfterMs),
    });
  }

  function permitFor(host: string, state: HostState): Permit {
    let released = false;
    const startedAt = clock.now();
    state.startedAt.push(startedAt);
    return {
      release() {
        if (released) return;
        released = true;
        state.inFlight -= 1;
        state.startedAt.splice(state.startedAt.indexOf(startedAt), 1);
        pump(host, state);
      },
    };
  }

  /**
   * Every slot is taken by a request older than maxWaitMs: the host is stuck (a black hole answers
   * nothing until the caller's deadline), and a caller that waited would hold one of the operator's
   * workers for nothing, starving connections on other hosts. It is told to come back instead.
   */
  function stuck(state: HostState, now: number): boolean {
    const oldest = state.startedAt[0];
    return (
      state.inFlight >= settings.maxConcurrent && oldest !== undefined && now - oldest >= settings.maxWaitMs
    );
  }

  function pump(host: string, state: HostState): void {
    const now = clock.now();
    if (state.heldUntil > now) {
      for (const waiter of state.queue.splice(0)) {
        waiter.timeout.cancel();
        waiter.reject(rateLimited(host, state.heldUntil - now, 'held after the server rate limited us'));
      }
      return;
    }
    refill(state, now);
    while (state.queue.length > 0 && state.inFlight < settings.maxConcurrent && state.tokens >= 1) {
      const waiter = state.queue.shift() as Waiter;
      waiter.timeout.cancel();
      state.tokens -= 1;
      state.inFlight += 1;
      waiter.resolve(permitFor(host, state));
    }
    state.wake?.cancel();
    state.wake = undefined;
    if (state.queue.length > 0 && state.inFlight < settings.maxConcurrent) {
      const rate = Math.max(currentRate(state, now), settings.minRatePerSecond);
      const waitMs = Math.max(1, Math.ceil(((1 - state.tokens) / rate) * 1000));
      state.wake = clock.setTimer(waitMs, () => {
        state.wake = undefined;
        pump(host, state);
      });
    }
  }

  return {
    acquire(host) {
      const state = hostState(host);
      const now = clock.now();
      if (state.heldUntil > now) {
        return Promise.reject(
          rateLimited(host, state.heldUntil - now, 'held after the server rate limited us'),
        );
      }
      refill(state, now);
      if (state.queue.length === 0 && state.inFlight < settings.maxConcurrent && state.tokens >= 1) {
        state.tokens -= 1;
        state.inFlight += 1;
        return Promise.resolve(permitFor(host, state));
      }
      if (stuck(state, now)) {
        return Promise.reject(
          rateLimited(
            host,
            settings.maxWaitMs,
            `stuck: ${state.inFlight} requests in flight for over ${settings.maxWaitMs} ms`,
          ),
        );
      }
      if (state.queue.length >= settings.maxQueue) {
        return Promise.reject(rateLimited(host, settings.maxWaitMs, 'queued beyond the limit'));
      }
      return new Promise<Permit>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timeout: clock.setTimer(settings.maxWaitMs, () => {
            state.queue = state.queue.filter((queued) => queued !== waiter);
            reject(rateLimited(host, settings.maxWaitMs, 'over budget'));
          }),
        };
        state.queue.push(waiter);
        pump(host, state);
      });
    },
    penalize(host, retryAfterMs) {
      const state = hostState(host);
      const now = clock.now();
      const rate = currentRate(state, now);
      state.heldUntil = Math.max(state.heldUntil, now + (retryAfterMs ?? settings.defaultPenaltyMs));
      state.slowedRate = Math.max(settings.minRatePerSecond, rate / 2);
      // One request may go as soon as the hold ends (the server said when to retry); then the slowed pace.
      state.tokens = 1;
      state.refilledAt = now;
      pump(host, state);
    },
    state(host) {
      const state = hosts.get(host);
      if (state === undefined) {
        return { inFlight: 0, queued: 0, heldUntil: 0, ratePerSecond: settings.ratePerSecond };
      }
      const now = clock.now();
      return {
        inFlight: state.inFlight,
        queued: state.queue.length,
        heldUntil: state.heldUntil > now ? state.heldUntil : 0,
        ratePerSecond: now < state.heldUntil ? 0 : currentRate(state, now),
      };
    },
    close() {
      for (const [host, state] of hosts) {
        state.wake?.cancel();
        for (const waiter of state.queue.splice(0)) {
          waiter.timeout.cancel();
          waiter.reject(rateLimited(host, settings.maxWaitMs, 'closed'));
        }
      }
    },
  };
}
