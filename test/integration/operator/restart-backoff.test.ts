// Backoff survives restarts: the retry state lives in status (failedAttempts, lastFailureTime,
// nextRetryTime), so an operator that restarts — or a new leader — neither starts the backoff again nor
// forgets a Retry-After the OAuth server sent to its predecessor. Real API server, operator, oidc-provider.
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '../../support/cluster.ts';
import { condition, getConnection, waitForCondition } from '../../support/kube.ts';
import { applyClient, applyTokenConnection, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

describe('backoff across an operator restart', () => {
  it('honours a Retry-After told to the previous process, then clears the failure', async () => {
    const namespace = await useTestNamespace('restart-backoff');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    server.tweaks.fault = { kind: 'status', status: 429, retryAfterSeconds: 10, ratio: 1 };
    const first = await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    const failed = await waitForCondition(namespace, 'billing', 'Ready', 'False', 'RateLimited');
    const status = failed.status ?? {};
    expect(status.failedAttempts).toBe(1);
    expect(status.failedRequest).toMatch(/^[0-9a-f]{16}$/);
    const lastFailure = Date.parse(status.lastFailureTime ?? '');
    const nextRetry = Date.parse(status.nextRetryTime ?? '');
    expect(nextRetry - lastFailure).toBeGreaterThanOrEqual(10_000);
    // Faulted answers count in the log, not in tokenRequests().
    const requests = server.tokenLog().length;
    expect(requests).toBe(1);

    // The server is fine again, but told coffre to come back in 10 s: a new process must not ask sooner.
    await first.stop();
    server.tweaks.fault = undefined;
    await startTestOperator({ namespace, caPem: server.caPem });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(server.tokenLog().length).toBe(requests);
    const waiting = await getConnection(namespace, 'billing');
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'RateLimited' });
    expect(waiting.status?.failedAttempts).toBe(1);
    expect(waiting.status?.nextRetryTime).toBe(status.nextRetryTime);

    const ready = await waitForCondition(namespace, 'billing', 'Ready', 'True', 'TokenValid', 20_000);
    const asked = server.tokenLog().slice(requests);
    expect(asked.length).toBe(1);
    expect(asked[0]?.receivedAt).toBeGreaterThanOrEqual(nextRetry);
    expect(ready.status?.failedAttempts).toBeUndefined();
    expect(ready.status?.lastFailureTime).toBeUndefined();
    expect(ready.status?.nextRetryTime).toBeUndefined();
    expect(ready.status?.failedRequest).toBeUndefined();
  });

  it('keeps counting failures across a restart, and backs off from there', async () => {
    const namespace = await useTestNamespace('restart-count');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    server.tweaks.fault = { kind: 'status', status: 503, ratio: 1 };
    const first = await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    await applyTokenConnection(namespace, 'billing');
    // 1–2 s, then 2–4 s: the third attempt comes after about 3–6 s.
    await expect
      .poll(async () => (await getConnection(namespace, 'billing')).status?.failedAttempts ?? 0, {
        timeout: 20_000,
      })
      .toBeGreaterThanOrEqual(3);
    await first.stop();
    const before = (await getConnection(namespace, 'billing')).status ?? {};
    const attempts = before.failedAttempts ?? 0;
    await startTestOperator({ namespace, caPem: server.caPem });
    // The next failure is counted on from the recorded attempts, not from one.
    await expect
      .poll(async () => (await getConnection(namespace, 'billing')).status?.failedAttempts ?? 0, {
        timeout: 30_000,
      })
      .toBe(attempts + 1);
    const after = (await getConnection(namespace, 'billing')).status ?? {};
    expect(Date.parse(after.lastFailureTime ?? '')).toBeGreaterThanOrEqual(
      Date.parse(before.nextRetryTime ?? '') - 1000,
    );
  });
});
