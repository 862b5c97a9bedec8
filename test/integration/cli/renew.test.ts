// kubectl coffre renew: sets the force-refresh annotation, waits until the operator honoured it, prints
// the new expiry — read from status.observedForceRefresh and Ready, for an admin and a coffre-edit user alike.
import { describe, expect, it } from 'vitest';
import {
  FORCE_REFRESH_ANNOTATION,
  FORCE_REFRESH_HANDLED_ANNOTATION,
} from '../../../src/api/v1alpha1/metadata-keys.ts';
import { getConnection, getSecret, kube } from '../../support/kube.ts';
import { bindRole, cli, kubeconfigFile } from './support.ts';
import { expectNoSecretPrinted, teamNamespace } from './fixtures.ts';

describe('kubectl coffre renew', () => {
  it('obtains a new token, waits for the operator, and prints the new expiry', async () => {
    const team = await teamNamespace('cli-renew', { empty: false });
    const before = await getConnection(team.namespace, 'billing');
    const tokenBefore = (await getSecret(team.namespace, 'billing-token'))?.data?.access_token;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = await cli(['renew', 'billing', '-n', team.namespace], await kubeconfigFile());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const after = await getConnection(team.namespace, 'billing');
    const value = after.metadata.annotations?.[FORCE_REFRESH_ANNOTATION];
    expect(value).toMatch(/^\d{4}-\d\d-\d\dT/);
    const secret = await getSecret(team.namespace, 'billing-token');
    expect(secret?.metadata?.annotations?.[FORCE_REFRESH_HANDLED_ANNOTATION]).toBe(value);
    expect(secret?.data?.access_token).not.toBe(tokenBefore);
    expect(after.status?.expiresAt).not.toBe(before.status?.expiresAt);
    expect(run.stdout).toMatch(
      new RegExp(`^billing: renewed, expires ${after.status?.expiresAt ?? '-'} \\(in 9m5\\ds\\)\\n$`),
    );
    await expectNoSecretPrinted(team);
  });

  it('renews every token connection for a coffre-edit user, from status alone, and skips static ones', async () => {
    const team = await teamNamespace('cli-renew-all', { empty: false });
    const editor = 'editor-renew';
    await bindRole(team.namespace, editor, 'coffre-edit');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = await cli(
      ['renew', '--all', '-n', team.namespace, '-o', 'json'],
      await kubeconfigFile({ as: editor }),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const outcomes = (
      JSON.parse(run.stdout) as { renewals: { name: string; result: string; expiresAt?: string }[] }
    ).renewals;
    expect(outcomes.map((o) => [o.name, o.result])).toEqual([
      ['billing', 'renewed'],
      ['invoices', 'renewed'],
      ['maps', 'skipped'],
    ]);
    for (const name of ['billing', 'invoices']) {
      const connection = await getConnection(team.namespace, name);
      expect(outcomes.find((o) => o.name === name)?.expiresAt).toBe(connection.status?.expiresAt);
    }
    await expectNoSecretPrinted(team);
  });

  it('reports a renewal that failed with its reason, exit code 1, once the operator processed it', async () => {
    const team = await teamNamespace('cli-renew-fail', { empty: false });
    await kube().json(`/api/v1/namespaces/${team.namespace}/secrets/local-client`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ stringData: { clientSecret: 'wrong-secret' } }),
    });
    const run = await cli(['renew', 'billing', '-n', team.namespace], await kubeconfigFile());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^billing: failed, InvalidClient: /);
    const after = await getConnection(team.namespace, 'billing');
    expect(after.status?.observedForceRefresh).toBe(after.metadata.annotations?.[FORCE_REFRESH_ANNOTATION]);
    await expectNoSecretPrinted(team);
  });

  it('times out with exit code 1, saying what it waited for, when no operator honours it', async () => {
    const team = await teamNamespace('cli-renew-timeout', { empty: false });
    await team.operator.stop();
    const kubeconfig = await kubeconfigFile();
    const run = await cli(['renew', 'billing', '-n', team.namespace, '--timeout', '2s'], kubeconfig);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(
        `^billing: timed out, TokenValid: the operator did not honour coffre.dev/force-refresh=\\S+ within 2s; is it running and watching namespace ${team.namespace}\\?\n$`,
      ),
    );
    const usage = await cli(['renew', '-n', team.namespace], kubeconfig);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('error: renew takes a NAME, or --all\n');
    const context = await cli(['renew', 'billing', '--context', 'nope'], kubeconfig);
    expect(context.code).toBe(2);
    expect(context.stderr).toBe('error: context "nope" is not in the kubeconfig\n');
  });
});
