// Token requests outside the workers: per-host concurrency, order, isolation between hosts, one
// hand-over per settled flight, and a replaced request's result dropped.
import { describe, expect, it } from 'vitest';
import type { TokenSet } from '../../../src/oauth/index.ts';
import { SecretValue } from '../../../src/secrets/secret-value.ts';
import {
  flightHost,
  TokenFlights,
  type FlightRun,
} from '../../../src/reconcilers/vault-connection/token-flights.ts';

const token = (n: number): TokenSet => ({
  accessToken: new SecretValue(`token-${n}`),
  tokenType: 'Bearer',
  issuedAt: n,
});

/** A run that settles when the test says so, and says whether it started. */
function controlled(n: number) {
  let started = false;
  let resolve: (value: { token: TokenSet; persisted: boolean }) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const run: FlightRun = () => {
    started = true;
    return new Promise((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
  };
  return {
    run,
    started: () => started,
    succeed: () => {
      resolve({ token: token(n), persisted: false });
    },
    fail: (error: unknown) => {
      reject(error);
    },
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TokenFlights', () => {
  it('runs at most perHost flights per host, the rest in order, and never holds another host', async () => {
    const woken: string[] = [];
    const flights = new TokenFlights({ perHost: 2, wake: (id) => woken.push(id) });
    const slow = [1, 2, 3, 4].map(controlled);
    slow.forEach((c, i) => {
      flights.start(`ns/slow-${i}`, 'h', 'slow.example:443', c.run);
    });
    const other = controlled(9);
    flights.start('ns/other', 'h', 'other.example:443', other.run);

    expect(slow.map((c) => c.started())).toEqual([true, true, false, false]);
    expect(other.started()).toBe(true);
    expect(flights.counts()).toEqual({ running: 3, queued: 2 });

    other.succeed();
    await tick();
    expect(woken).toEqual(['ns/other']);
    expect(flights.take('ns/other', 'h')).toMatchObject({ kind: 'settled', settled: { ok: true } });

    slow[1]?.succeed();
    await tick();
    expect(slow.map((c) => c.started())).toEqual([true, true, true, false]);
    slow[0]?.fail(new Error('down'));
    await tick();
    expect(slow.map((c) => c.started())).toEqual([true, true, true, true]);
    expect(woken).toEqual(['ns/other', 'ns/slow-1', 'ns/slow-0']);
    expect(flights.take('ns/slow-0', 'h')).toMatchObject({ kind: 'settled', settled: { ok: false } });
    expect(flights.take('ns/slow-2', 'h')).toMatchObject({ kind: 'waiting' });
  });

  it('hands a settled flight over once, and only for the request it was started for', async () => {
    const flights = new TokenFlights({ perHost: 4, wake: () => undefined });
    const c = controlled(1);
    flights.start('ns/a', 'hash-1', 'h:443', c.run);
    expect(flights.take('ns/a', 'hash-2')).toEqual({ kind: 'none' });
    expect(flights.take('ns/a', 'hash-1')).toMatchObject({ kind: 'waiting' });
    c.succeed();
    await tick();
    const taken = flights.take('ns/a', 'hash-1');
    expect(taken.kind).toBe('settled');
    expect(flights.take('ns/a', 'hash-1')).toEqual({ kind: 'none' });
  });

  it('drops the result of a replaced request and does not wake for it', async () => {
    const woken: string[] = [];
    const flights = new TokenFlights({ perHost: 4, wake: (id) => woken.push(id) });
    const old = controlled(1);
    const fresh = controlled(2);
    flights.start('ns/a', 'old', 'h:443', old.run);
    flights.start('ns/a', 'new', 'h:443', fresh.run);
    old.succeed();
    await tick();
    expect(woken).toEqual([]);
    expect(flights.take('ns/a', 'old')).toEqual({ kind: 'none' });
    fresh.succeed();
    await tick();
    expect(woken).toEqual(['ns/a']);
    expect(flights.take('ns/a', 'new')).toMatchObject({ kind: 'settled' });
  });

  it('never starts the queued flight of a forgotten connection, and frees its turn', async () => {
    const flights = new TokenFlights({ perHost: 1, wake: () => undefined });
    const first = controlled(1);
    const deleted = controlled(2);
    const third = controlled(3);
    flights.start('ns/first', 'h', 'h:443', first.run);
    flights.start('ns/deleted', 'h', 'h:443', deleted.run);
    flights.start('ns/third', 'h', 'h:443', third.run);
    flights.forget('ns/deleted');
    first.succeed();
    await tick();
    expect(deleted.started()).toBe(false);
    expect(third.started()).toBe(true);
    third.succeed();
    await tick();
    expect(flights.counts()).toEqual({ running: 0, queued: 0 });
  });

  it('settles at once what needs no request (a shared token, a refusal before sending)', async () => {
    const flights = new TokenFlights({ perHost: 1, wake: () => undefined });
    const cached: FlightRun = () => Promise.resolve({ token: token(5), persisted: false });
    expect(await flights.settledAtOnce('ns/a', 'h', 'h:443', cached)).toMatchObject({
      kind: 'settled',
      settled: { ok: true },
    });
    const slow = controlled(6);
    expect(await flights.settledAtOnce('ns/b', 'h', 'h:443', slow.run)).toMatchObject({ kind: 'waiting' });
  });

  it('drains at shutdown: running flights finish, queued ones never start, bounded by the grace', async () => {
    const flights = new TokenFlights({ perHost: 1, wake: () => undefined });
    const running = controlled(1);
    const queued = controlled(2);
    flights.start('ns/a', 'h', 'h:443', running.run);
    flights.start('ns/b', 'h', 'h:443', queued.run);
    const drained = flights.drain(5_000);
    running.succeed();
    expect(await drained).toBe(true);
    expect(queued.started()).toBe(false);
    // Nothing starts after the drain began.
    const late = controlled(3);
    flights.start('ns/c', 'h', 'h:443', late.run);
    expect(late.started()).toBe(false);

    const stuck = new TokenFlights({ perHost: 1, wake: () => undefined });
    stuck.start('ns/a', 'h', 'h:443', controlled(4).run);
    expect(await stuck.drain(20)).toBe(false);
  });

  it.each([
    [
      { issuer: 'https://tenant.example', tokenEndpoint: 'https://login.example:8443/token' },
      'login.example:8443',
    ],
    [{ issuer: 'https://tenant.example/realms/x' }, 'tenant.example'],
    [{ issuer: 'not a url' }, ''],
  ])('counts %j under host %j', (client, host) => {
    expect(flightHost(client)).toBe(host);
  });
});
