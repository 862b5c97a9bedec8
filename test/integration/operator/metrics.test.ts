// The metrics move as the scenarios say: scraped from the operator's /metrics while it mints, shares,
// fails and is rate limited against real servers.
import { describe, expect, it } from 'vitest';
import { serveMetrics } from '../../../src/observability/http-server.ts';
import { startLocalSlackServer } from '../../../tools/local-slack-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getConnection, waitForCondition } from '../../support/kube.ts';
import { applyClient, applyTokenConnection, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator, type TestOperator } from '../../support/operator.ts';

/** The value of one series in Prometheus text, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(operator: TestOperator): Promise<string> {
  const endpoint = await serveMetrics(operator.metrics.registry, '127.0.0.1', 0);
  try {
    const response = await fetch(`http://127.0.0.1:${endpoint.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return await response.text();
  } finally {
    await endpoint.close();
  }
}

describe('metrics', () => {
  it('track minting, sharing, expiry, connection states and API writes', { timeout: 60_000 }, async () => {
    const namespace = await useTestNamespace('metrics');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 300 });
    const operator = await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'a');
    await waitForCondition(namespace, 'a', 'Ready', 'True');
    await applyTokenConnection(namespace, 'b');
    await waitForCondition(namespace, 'b', 'Ready', 'True');
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'empty' },
      spec: { type: 'apiKey', credentialsRef: { name: 'missing' } },
    });
    await waitForCondition(namespace, 'empty', 'Empty', 'True');

    const text = await scrape(operator);
    const a = await getConnection(namespace, 'a');
    expect(
      sample(text, 'coffre_token_expiration_timestamp_seconds', { namespace, name: 'a', type: 'oauth2' }),
    ).toBe(Date.parse(a.status?.expiresAt ?? '') / 1000);
    expect(
      sample(text, 'coffre_token_requests_total', { host: new URL(server.issuer).host, outcome: 'success' }),
    ).toBe(1);
    expect(sample(text, 'coffre_shared_token_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'coffre_token_refreshes_total', { type: 'oauth2', result: 'success' })).toBe(2);
    expect(sample(text, 'coffre_connections', { ready: 'True', reason: 'TokenValid' })).toBe(2);
    expect(sample(text, 'coffre_connections', { ready: 'False', reason: 'SecretNotFound' })).toBe(1);
    expect(sample(text, 'coffre_api_writes_total', { verb: 'create', resource: 'secrets' })).toBe(2);
    expect(sample(text, 'coffre_reconcile_total', { controller: 'vaultconnection' })).toBeGreaterThanOrEqual(
      3,
    );
    expect(
      sample(text, 'coffre_reconcile_duration_seconds_count', { controller: 'oauthclient' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'coffre_leader')).toBe(1);
    expect(sample(text, 'coffre_informer_relists_total', { reason: 'initial' })).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'coffre_build_info', { version: 'test' })).toBe(1);
    expect(sample(text, 'coffre_process_resident_memory_bytes')).toBeGreaterThan(0);

    // An outage: failures by reason, and the failed requests by outcome.
    await server.unavailable();
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'a', annotations: { 'coffre.dev/force-refresh': '1' } },
      spec: {
        type: 'oauth2',
        oauthClientRef: { name: 'local' },
        oauth2: { audience: 'https://api.local.test/', scopes: ['read:users', 'update:users'] },
      },
    });
    // The published token is still valid: Ready stays True, saying the renewal fails.
    await waitForCondition(namespace, 'a', 'Ready', 'True', 'RenewalFailing');
    const after = await scrape(operator);
    expect(
      sample(after, 'coffre_token_refreshes_total', {
        type: 'oauth2',
        result: 'failure',
        reason: 'EndpointUnreachable',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'coffre_token_requests_total', { host: new URL(server.issuer).host, outcome: 'network' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'coffre_connections', { ready: 'True', reason: 'RenewalFailing' })).toBe(1);
  });

  it('count a provider rate limiting coffre', { timeout: 60_000 }, async () => {
    const namespace = await useTestNamespace('ratelimit');
    const slack = await startLocalSlackServer({
      clientId: 'app',
      clientSecret: 's',
      tokenLifetimeSeconds: 600,
    });
    slack.failNext('ratelimited', { status: 429, retryAfterSeconds: 2 });
    const operator = await startTestOperator({
      namespace,
      caPem: slack.caPem,
      flags: [`--slack-api-base-url=${slack.tokenEndpoint.replace(/\/oauth\.v2\.access$/, '')}`],
    });
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'slack' },
      stringData: { clientId: 'app', clientSecret: 's', refreshToken: slack.issueRefreshToken() },
    });
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'alerts' },
      spec: { type: 'slack', credentialsRef: { name: 'slack' } },
    });
    await waitForCondition(namespace, 'alerts', 'Ready', 'False', 'RateLimited');
    expect(sample(await scrape(operator), 'coffre_token_requests_total', { outcome: 'rate_limited' })).toBe(
      1,
    );
    // After Retry-After, the next attempt succeeds.
    await waitForCondition(namespace, 'alerts', 'Ready', 'True', 'TokenValid', 20_000);
    expect(slack.tokenRequests()).toBe(2);
    await slack.stop();
  });
});
