// Token requests that run outside the reconcile workers. A reconcile that needs a token from the
// network starts a flight and returns; the connection is woken when the token (or the failure)
// arrives, and the next reconcile publishes it. A token the shared cache already holds is used at
// once, in the same reconcile (see `settledAtOnce`).
//
// Per token-endpoint host at most `perHost` flights run at once (the engine's per-host concurrency);
// the others wait their turn in order, outside any worker. So a slow or silent host delays its own
// connections only: workers stay free for every other host and for static types. Without this, 8
// reconciles waiting on one black-holed endpoint held all 8 workers (docs/reliability.md, finding 2).
import type { TokenSet } from '../../oauth/index.ts';

export type Settled =
  | { ok: true; token: TokenSet; /** The rotated refresh token was written already. */ persisted: boolean }
  | { ok: false; error: unknown };

/** What a flight does: request the token and, for a rotation, persist the new refresh token. */
export type FlightRun = () => Promise<{ token: TokenSet; persisted: boolean }>;

interface Flight {
  readonly requestHash: string;
  readonly host: string;
  readonly run: FlightRun;
  /** When the connection asked (queued or not). */
  readonly since: number;
  settled: Settled | undefined;
  started: boolean;
}

export type FlightState =
  /** No flight for this request (none, or one for an older request: forgotten). */
  | { kind: 'none' }
  /** Queued or on the wire since `since`: the connection is woken when it settles. */
  | { kind: 'waiting'; since: number }
  | { kind: 'settled'; settled: Settled };

export interface TokenFlightsOptions {
  /** Flights running at once per host. */
  perHost: number;
  /** Re-queues the connection (its key) once its flight has settled. */
  wake: (id: string) => void;
  /** Epoch ms (the reconciler's clock); default Date.now. */
  now?: () => number;
}

export interface FlightCounts {
  running: number;
  queued: number;
}

export class TokenFlights {
  readonly #options: TokenFlightsOptions;
  readonly #flights = new Map<string, Flight>();
  /** Per host: flights running, and the keys waiting for a turn (in order). */
  readonly #hosts = new Map<string, { running: number; queue: string[] }>();
  readonly #running = new Set<Promise<void>>();
  #draining = false;

  constructor(options: TokenFlightsOptions) {
    this.#options = { ...options, perHost: Math.max(1, options.perHost) };
  }

  /** The flight of `id` for this request. A settled flight is handed over once, then forgotten. */
  take(id: string, requestHash: string): FlightState {
    const flight = this.#flights.get(id);
    if (flight?.requestHash !== requestHash) return { kind: 'none' };
    if (flight.settled === undefined) return { kind: 'waiting', since: flight.since };
    this.#flights.delete(id);
    return { kind: 'settled', settled: flight.settled };
  }

  /**
   * Starts (or queues) a flight for `id`, replacing one for an older request: that one still runs to
   * its end (a rotation it receives is persisted by its run) but its result is dropped.
   */
  start(id: string, requestHash: string, host: string, run: FlightRun): void {
    this.forget(id);
    const now = this.#options.now ?? Date.now;
    const flight: Flight = { requestHash, host, run, since: now(), settled: undefined, started: false };
    this.#flights.set(id, flight);
    const state = this.#host(host);
    if (!this.#draining && state.running < this.#options.perHost) this.#launch(id, flight);
    else state.queue.push(id);
  }

  /**
   * Starts a flight and waits one turn of the event loop: a token the shared cache holds (or a failure
   * decided before any request) is settled by then, and the reconcile uses it at once.
   */
  async settledAtOnce(
    id: string,
    requestHash: string,
    host: string,
    run: FlightRun,
  ): Promise<Exclude<FlightState, { kind: 'none' }>> {
    this.start(id, requestHash, host, run);
    const since = this.#flights.get(id)?.since ?? (this.#options.now ?? Date.now)();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const state = this.take(id, requestHash);
    // 'none' only if the connection was forgotten meanwhile (deleted): nothing to publish, like waiting.
    return state.kind === 'none' ? { kind: 'waiting', since } : state;
  }

  /** Drops the flight of a deleted connection (a running one finishes; a queued one never starts). */
  forget(id: string): void {
    const flight = this.#flights.get(id);
    if (flight === undefined) return;
    this.#flights.delete(id);
    if (!flight.started) {
      const state = this.#hosts.get(flight.host);
      if (state !== undefined) state.queue = state.queue.filter((queued) => queued !== id);
    }
  }

  /**
   * At shutdown: no queued flight starts any more (none of them was sent); resolves true once every
   * running one has settled — a rotation it received is written — or false after `withinMs`.
   */
  async drain(withinMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, withinMs);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.#running]).then(() => true), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  counts(): FlightCounts {
    let running = 0;
    let queued = 0;
    for (const state of this.#hosts.values()) {
      running += state.running;
      queued += state.queue.length;
    }
    return { running, queued };
  }

  #host(host: string): { running: number; queue: string[] } {
    let state = this.#hosts.get(host);
    if (state === undefined) {
      state = { running: 0, queue: [] };
      this.#hosts.set(host, state);
    }
    return state;
  }

  #launch(id: string, flight: Flight): void {
    const state = this.#host(flight.host);
    state.running += 1;
    flight.started = true;
    const finish = (settled: Settled) => {
      flight.settled = settled;
      state.running -= 1;
      this.#next(flight.host);
      // Woken only if this flight is still the one the connection waits for.
      if (this.#flights.get(id) === flight) this.#options.wake(id);
    };
    const running = flight.run().then(
      ({ token, persisted }) => {
        finish({ ok: true, token, persisted });
      },
      (error: unknown) => {
        finish({ ok: false, error });
      },
    );
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  #next(host: string): void {
    const state = this.#hosts.get(host);
    if (state === undefined) return;
    while (!this.#draining && state.running < this.#options.perHost && state.queue.length > 0) {
      const id = state.queue.shift() ?? '';
      const flight = this.#flights.get(id);
      if (flight !== undefined && !flight.started) this.#launch(id, flight);
    }
    if (state.running === 0 && state.queue.length === 0) this.#hosts.delete(host);
  }
}

/** The host a request's flights are counted under: its token endpoint's, else its issuer's. */
export function flightHost(client: { issuer: string; tokenEndpoint?: string | undefined }): string {
  return URL.parse(client.tokenEndpoint ?? client.issuer)?.host ?? '';
}
