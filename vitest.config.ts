import { defineConfig } from 'vitest/config';

// Three suites, all run by `npm test`:
// - unit: pure functions and in-process fakes, milliseconds each;
// - oauth: the OAuth engine against real HTTP servers on 127.0.0.1 (oidc-provider, Slack- and
//   Shopify-shaped endpoints, hostile servers); no Kubernetes;
// - integration: a real kube-apiserver + etcd started once per run (global setup).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'oauth',
          include: ['test/oauth/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
