// kubectl coffre status, against the real API server with the operator running: as a coffre-view user
// (impersonation), who may not read a Secret — so status works without reading one.
import { describe, expect, it } from 'vitest';
import { kubeconfigFile, bindRole, cli, underTerminal, shellQuote, CLI } from './support.ts';
import { expectNoSecretPrinted, teamNamespace } from './fixtures.ts';
import { impersonating } from '../../support/admission.ts';
import { clusterKubeConfig } from '../../support/cluster.ts';

describe('kubectl coffre status', () => {
  it('shows every connection to a coffre-view user, the empty one marked, and exits 1 while one is not Ready', async () => {
    const team = await teamNamespace('cli-status');
    const viewer = 'viewer-status';
    await bindRole(team.namespace, viewer, 'coffre-view');
    // The viewer really may not read Secrets: status below cannot be reading any.
    const denied = await impersonating(clusterKubeConfig(), viewer).send(
      `/api/v1/namespaces/${team.namespace}/secrets/maps`,
    );
    await denied.body?.cancel();
    expect(denied.status).toBe(403);
    const kubeconfig = await kubeconfigFile({ as: viewer });

    const all = await cli(['status', '-n', team.namespace], kubeconfig);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(1);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+REASON\s+EXPIRES\s+NEXT REFRESH\s+SHARED\s+LAST ERROR$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    expect(row('billing')).toMatch(
      /^billing\s+oauth2\s+Ready\s+TokenValid\s+in 9m\d*s?\s+in \d+m\S*\s+2\s+-$/,
    );
    expect(row('invoices')).toMatch(/\s2\s+-$/);
    expect(row('maps')).toMatch(/^maps\s+apiKey\s+Ready\s+CredentialsPublished\s+-\s+-\s+1\s+-$/);
    expect(row('crm')).toMatch(/^crm\s+apiKey\s+! Empty\s+SecretNotFound\s+-\s+-\s+1\s+Secret crm/);
    // Not a terminal: no colour.
    expect(all.stdout).not.toContain('\u001b[');

    const one = await cli(['status', 'billing', '-n', team.namespace], kubeconfig);
    expect(one.code).toBe(0);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(2);

    const json = await cli(['status', '-n', team.namespace, '-o', 'json'], kubeconfig);
    const parsed = JSON.parse(json.stdout) as {
      connections: { name: string; state: string; sharedBy: number; lastError?: string }[];
    };
    expect(parsed.connections.map((c) => [c.name, c.state, c.sharedBy])).toEqual([
      ['billing', 'Ready', 2],
      ['crm', 'Empty', 1],
      ['invoices', 'Ready', 2],
      ['maps', 'Ready', 1],
    ]);
    expect(parsed.connections.find((c) => c.name === 'crm')?.lastError).toMatch(/Secret crm/);

    const wide = await cli(['status', '-n', team.namespace, '-o', 'wide'], kubeconfig);
    expect(wide.stdout.split('\n')[0]).toMatch(/SECRET\s+OAUTHCLIENT\s+LAST REFRESH\s+LAST ERROR$/);
    expect(wide.stdout).toMatch(/billing\s.*billing-token\s+local\s+\d+s ago/);

    // A viewer bound in one namespace may not list every namespace: one line, exit code 3.
    const everywhere = await cli(['status', '-A'], kubeconfig);
    expect(everywhere.code).toBe(3);
    expect(everywhere.stderr).toMatch(/^error: forbidden: .*vaultconnections/);

    const missing = await cli(['status', 'nope', '-n', team.namespace], kubeconfig);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: vaultconnection "nope" not found in namespace "${team.namespace}"\n`);

    // The context's namespace is the default, as with kubectl.
    const inContext = await cli(
      ['status', 'maps'],
      await kubeconfigFile({ as: viewer, namespace: team.namespace }),
    );
    expect(inContext.code).toBe(0);
    await expectNoSecretPrinted(team);
  });

  it('colours the states on a terminal only, Empty in orange', async () => {
    const team = await teamNamespace('cli-colour');
    const kubeconfig = await kubeconfigFile();
    const run = await underTerminal(shellQuote([process.execPath, CLI, 'status', '-n', team.namespace]), {
      KUBECONFIG: kubeconfig,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('\u001b[38;5;208m! Empty\u001b[0m');
    expect(run.stdout).toContain('\u001b[32mReady\u001b[0m');
    const noColour = await underTerminal(
      shellQuote([process.execPath, CLI, 'status', '-n', team.namespace]),
      {
        KUBECONFIG: kubeconfig,
        NO_COLOR: '1',
      },
    );
    expect(noColour.stdout).toContain('! Empty');
    expect(noColour.stdout).not.toContain('\u001b[');
    await expectNoSecretPrinted(team);
  });
});
