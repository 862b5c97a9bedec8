import { describe, expect, it } from 'vitest';
import type { TokenRequestEvent } from '../../../src/oauth/engine.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { tokenEngineMetrics } from '../../../src/observability/observers.ts';

const base: TokenRequestEvent = {
  host: 'idp.example.com',
  clientId: 'm2m',
  flavour: 'standard',
  grant: 'client_credentials',
  outcome: 'success',
  sent: true,
  durationMs: 5,
};

describe('coffre_token_requests_total', () => {
  it.each<[string, Partial<TokenRequestEvent>, number]>([
    ['should count a request answered with a token', {}, 1],
    ['should count a request the server refused', { outcome: 'invalid_client' }, 1],
    ['should count a request that failed on the network', { outcome: 'network' }, 1],
    ['should not count what the SSRF guard refused before sending', { outcome: 'endpoint_refused' }, 0],
    ['should not count a plain http endpoint, never called', { outcome: 'insecure_url' }, 0],
    ['should not count what never reached the server', { outcome: 'discovery_failed', sent: false }, 0],
  ])('%s', async (_title, event, count) => {
    const metrics = createMetrics('test');
    tokenEngineMetrics(metrics).tokenRequest?.({ ...base, ...event });
    const values = (await metrics.tokenRequests.get()).values;
    expect(values.reduce((sum, v) => sum + v.value, 0)).toBe(count);
  });
});
