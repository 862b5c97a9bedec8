// Engines for the oauth suite: the guarded fetch opened for 127.0.0.1 and trusting the test CA.
import type { Clock } from '../../../src/clock.ts';
import { tokenAdaptersOf } from '../../../src/connection-types/registry.ts';
import { createTokenEngine, type TokenEngine, type TokenEngineOptions } from '../../../src/oauth/index.ts';
import { OAuthError } from '../../../src/oauth/errors.ts';

export function localEngine(
  caPem: string,
  options: Omit<TokenEngineOptions, 'fetch'> & { clock?: Clock } = {},
): TokenEngine {
  return createTokenEngine({
    fetch: { allowedCIDRs: ['127.0.0.1/32'], ca: caPem, totalTimeoutMs: 5_000 },
    adapters: tokenAdaptersOf(),
    ...options,
  });
}

/** The OAuthError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof OAuthError)) throw outcome instanceof Error ? outcome : new Error(String(outcome));
  return outcome;
}
