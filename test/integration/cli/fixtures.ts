// A namespace as a team would have it: two oauth2 connections sharing one OAuthClient's token, an
// empty connection, and a static API key whose value is a canary that no command may print.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getSecret, secretText, waitForCondition } from '../../support/kube.ts';
import {
  applyClient,
  applyTokenConnection,
  CLIENT_SECRET,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator, type TestOperator } from '../../support/operator.ts';
import type { LocalOAuthServer } from '../../../tools/local-oauth-server.ts';
import { transcript } from './support.ts';

export interface Team {
  namespace: string;
  server: LocalOAuthServer;
  canary: string;
  operator: TestOperator;
  /** The secrets whose values must never appear in an output: the canary, the client secret, tokens. */
  secrets(): Promise<string[]>;
}

export async function teamNamespace(prefix: string, options: { empty?: boolean } = {}): Promise<Team> {
  const namespace = await useTestNamespace(prefix);
  const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
  const operator = await startTestOperator({ namespace, caPem: server.caPem });
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  await applyClient(namespace, server);
  await applyTokenConnection(namespace, 'billing');
  await applyTokenConnection(namespace, 'invoices');
  await apply(namespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'maps' },
    stringData: { apiKey: canary },
  });
  await apply(namespace, {
    apiVersion: 'coffre.dev/v1alpha1',
    kind: 'VaultConnection',
    metadata: { name: 'maps' },
    spec: { type: 'apiKey', credentialsRef: { name: 'maps' } },
  });
  if (options.empty !== false) {
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'crm' },
      spec: { type: 'apiKey', credentialsRef: { name: 'crm' } },
    });
    await waitForCondition(namespace, 'crm', 'Empty', 'True', 'SecretNotFound');
  }
  await waitForCondition(namespace, 'billing', 'Ready', 'True', 'TokenValid');
  await waitForCondition(namespace, 'invoices', 'Ready', 'True', 'TokenValid');
  await waitForCondition(namespace, 'maps', 'Ready', 'True', 'CredentialsPublished');
  return {
    namespace,
    server,
    canary,
    operator,
    async secrets() {
      const tokens = await Promise.all(
        ['billing-token', 'invoices-token'].map(async (n) =>
          secretText(await getSecret(namespace, n), 'access_token'),
        ),
      );
      return [canary, CLIENT_SECRET, ...tokens.filter((t): t is string => t !== undefined)];
    },
  };
}

/** No output of the CLI so far holds a secret value. */
export async function expectNoSecretPrinted(team: Team): Promise<void> {
  const all = transcript.join('\n');
  expect(all.length).toBeGreaterThan(0);
  for (const value of await team.secrets()) {
    expect(value.length).toBeGreaterThan(8);
    expect(all).not.toContain(value);
  }
}
