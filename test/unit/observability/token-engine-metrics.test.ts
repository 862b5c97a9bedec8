import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { tokenEngineMetrics } from '../../../src/observability/observers.ts';
import type { TokenRequestEvent } from '../../../src/oauth/index.ts';

const event = (overrides: Partial<TokenRequestEvent>): TokenRequestEvent => ({
  host: 'acme.eu.auth0.com',
  clientId: 'm2m-a',
  flavour: 'standard',
  grant: 'client_credentials',
  outcome: 'success',
  sent: true,
  durationMs: 5,
  ...overrides,
});

async function minted(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const { values } = await metrics.tokensMinted.get();
  return Object.fromEntries(
    values.map((v) => [`${String(v.labels.host)}/${String(v.labels.client_id)}`, v.value]),
  );
}

describe('coffre_tokens_minted_total', () => {
  it('should count successful token requests per host and client, and nothing else', async () => {
    const metrics = createMetrics('test');
    const observer = tokenEngineMetrics(metrics);
    observer.tokenRequest?.(event({}));
    observer.tokenRequest?.(event({}));
    observer.tokenRequest?.(event({ clientId: 'm2m-b' }));
    observer.tokenRequest?.(event({ outcome: 'invalid_client' }));
    observer.tokenRequest?.(event({ outcome: 'rate_limited' }));
    expect(await minted(metrics)).toEqual({ 'acme.eu.auth0.com/m2m-a': 2, 'acme.eu.auth0.com/m2m-b': 1 });
  });

  it('should keep a series for the first clients only, counting the rest as other', async () => {
    const metrics = createMetrics('test');
    const observer = tokenEngineMetrics(metrics, 50, 2);
    for (const clientId of ['a', 'b', 'c', 'd']) observer.tokenRequest?.(event({ clientId }));
    expect(await minted(metrics)).toEqual({
      'acme.eu.auth0.com/a': 1,
      'acme.eu.auth0.com/b': 1,
      'acme.eu.auth0.com/other': 2,
    });
  });
});
