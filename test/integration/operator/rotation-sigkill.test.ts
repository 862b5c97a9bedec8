// Refresh-token rotation survives a SIGKILL of the operator: the operator runs as its own process
// (src/main.ts), is killed with no chance to clean up, and a new one carries on from the refresh token
// coffre persisted — the one the provider honours — with no invalid_grant and no re-authorisation.
// Each provider that rotates refresh tokens is run against its provider-shaped server.
import { describe, expect, it } from 'vitest';
import { startLocalShopifyServer } from '../../../tools/local-shopify-server.ts';
import { startLocalZendeskServer } from '../../../tools/local-zendesk-server.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getSecret, secretText, waitForCondition } from '../../support/kube.ts';
import { startOperatorProcess } from '../../support/operator-process.ts';
import { startTestOperator } from '../../support/operator.ts';
import { loadSample } from '../../support/samples.ts';

interface RotatingServer {
  caPem: string;
  flags: string[];
  issueRefreshToken(): string;
  isActive(refreshToken: string): boolean;
  invalidGrants(): number;
  stop(): Promise<void>;
}

interface Case {
  sample: string;
  connection: string;
  start(): Promise<RotatingServer>;
  credentials(refreshToken: string): Record<string, string>;
}

const cases: [string, Case][] = [
  [
    'zendesk',
    {
      sample: 'zendesk-refresh-token.yaml',
      connection: 'zendesk-agent',
      async start() {
        const server = await startLocalZendeskServer({
          clientId: 'coffre',
          clientSecret: 'zendesk-secret',
          tokenLifetimeSeconds: 3,
        });
        return {
          caPem: server.caPem,
          flags: [`--zendesk-base-url=${server.baseUrl}`],
          issueRefreshToken: () => server.issueRefreshToken(),
          isActive: (token) => server.isActive(token),
          invalidGrants: () => server.invalidGrants(),
          stop: () => server.stop(),
        };
      },
      credentials: (refreshToken) => ({ clientId: 'coffre', clientSecret: 'zendesk-secret', refreshToken }),
    },
  ],
  [
    'shopify',
    {
      sample: 'shopify-offline-token.yaml',
      connection: 'shopify-offline',
      async start() {
        const server = await startLocalShopifyServer({
          clientId: 'shop-app',
          clientSecret: 'shop-secret',
          offlineTokenLifetimeSeconds: 3,
        });
        return {
          caPem: server.caPem,
          flags: [`--shopify-base-url=${new URL(server.tokenEndpoint).origin}`],
          issueRefreshToken: () => server.issueRefreshToken(),
          isActive: (token) => server.isActive(token),
          invalidGrants: () => server.invalidGrants(),
          stop: () => server.stop(),
        };
      },
      credentials: (refreshToken) => ({ clientId: 'shop-app', clientSecret: 'shop-secret', refreshToken }),
    },
  ],
];

describe('refresh-token rotation across a SIGKILL of the operator', () => {
  it.each(cases)(
    '%s: a new operator carries on from the persisted refresh token',
    { timeout: 90_000 },
    async (_name, testCase) => {
      const namespace = await useTestNamespace('sigkill');
      const server = await testCase.start();
      const seed = server.issueRefreshToken();
      const first = await startOperatorProcess({ namespace, caPem: server.caPem, flags: server.flags });
      try {
        for (const { object } of loadSample(testCase.sample)) {
          const copy = structuredClone<Parameters<typeof apply>[1]>(object);
          if (copy.kind === 'Secret') copy.stringData = testCase.credentials(seed);
          await apply(namespace, copy);
        }
        await waitForCondition(namespace, testCase.connection, 'Ready', 'True', 'TokenValid', 45_000);
        // Let it rotate a few times, then kill it just after a rotation was persisted.
        const seen = new Set<string>();
        await expect
          .poll(
            async () => {
              const current = await state();
              if (current !== undefined) seen.add(current);
              return seen.size;
            },
            { timeout: 20_000, interval: 50 },
          )
          .toBeGreaterThanOrEqual(3);
        await first.kill();
      } catch (error) {
        console.error(first.output().slice(-4000));
        throw error;
      }
      const persisted = (await state()) ?? '';
      expect(server.isActive(persisted)).toBe(true);

      await startTestOperator({ namespace, caPem: server.caPem, flags: server.flags });
      await expect.poll(state, { timeout: 15_000 }).not.toBe(persisted);
      await waitForCondition(namespace, testCase.connection, 'Ready', 'True', 'TokenValid');
      expect(server.isActive((await state()) ?? '')).toBe(true);
      expect(server.invalidGrants()).toBe(0);
      await server.stop();

      async function state() {
        return secretText(await getSecret(namespace, `${testCase.connection}-coffre-state`), 'refresh_token');
      }
    },
  );
});
