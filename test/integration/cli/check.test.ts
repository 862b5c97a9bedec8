// kubectl coffre check: Secrets and keys, the operator's SSRF policy read from its Deployment, TLS,
// discovery, and what to do about the reason — without printing a secret.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, waitForCondition } from '../../support/kube.ts';
import { cli, installOperatorDeployment, kubeconfigFile } from './support.ts';
import { expectNoSecretPrinted, teamNamespace } from './fixtures.ts';

const line = (out: string, check: string) => out.split('\n').find((l) => l.includes(` ${check} `)) ?? '';

describe('kubectl coffre check', () => {
  it('passes every check of a Ready connection with the operator configuration of its Deployment', async () => {
    const team = await teamNamespace('cli-check', { empty: false });
    const operatorNamespace = await useTestNamespace('cli-check-operator');
    await installOperatorDeployment(operatorNamespace, {
      args: ['--workers=4', '--allowed-cidrs=127.0.0.1/32'],
      caPem: team.server.caPem,
    });
    const run = await cli(
      ['check', 'billing', '-n', team.namespace, '--operator-namespace', operatorNamespace],
      await kubeconfigFile(),
    );
    expect(run.stderr).toBe('');
    const out = run.stdout;
    expect(out).toMatch(new RegExp(`^Checking vaultconnection ${team.namespace}/billing \\(oauth2\\)$`, 'm'));
    expect(line(out, 'operator configuration')).toMatch(
      new RegExp(
        `ok\\s+operator configuration\\s+Deployment ${operatorNamespace}/coffre; SSRF allowlist: 127.0.0.1/32$`,
      ),
    );
    expect(line(out, 'OAuthClient')).toMatch(
      /ok\s+OAuthClient\s+OAuthClient local: Ready=True \(ClientReady\)/,
    );
    expect(line(out, 'OAuthClient Secret')).toMatch(
      /ok\s+OAuthClient Secret\s+Secret local-client holds clientSecret$/,
    );
    expect(out).toMatch(
      /ok\s+SSRF policy \(127\.0\.0\.1:\d+\)\s+127\.0\.0\.1 resolves to 127\.0\.0\.1: allowed/,
    );
    expect(out).toMatch(
      /ok\s+TLS \(127\.0\.0\.1:\d+\)\s+the certificate of 127\.0\.0\.1:\d+ verifies against the system roots and the operator's CA bundle/,
    );
    expect(out).toMatch(
      /ok\s+discovery\s+https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration answers; token_endpoint https:\/\/127\.0\.0\.1:\d+\/oauth\/token/,
    );
    expect(out).toMatch(/ok\s+operator reports\s+Ready=True TokenValid: token published/);
    expect(out).toMatch(/\nNo check failed\.\n$/);
    expect(run.code).toBe(0);
    await expectNoSecretPrinted(team);
  });

  it('fails the SSRF and TLS checks with the defaults, as an operator without allowlist or CA would', async () => {
    const team = await teamNamespace('cli-check-defaults', { empty: false });
    const nowhere = await useTestNamespace('cli-check-none');
    const kubeconfig = await kubeconfigFile();
    const run = await cli(
      ['check', 'billing', '-n', team.namespace, '--operator-namespace', nowhere, '-o', 'json'],
      kubeconfig,
    );
    expect(run.code).toBe(1);
    const checks = (JSON.parse(run.stdout) as { checks: { check: string; result: string; detail: string }[] })
      .checks;
    const find = (prefix: string) => checks.find((c) => c.check.startsWith(prefix));
    expect(find('operator configuration')).toMatchObject({
      result: 'warn',
      detail: `defaults (no Deployment labelled app.kubernetes.io/name=coffre in namespace ${nowhere}); SSRF allowlist: none`,
    });
    expect(find('SSRF policy')?.result).toBe('fail');
    expect(find('SSRF policy')?.detail).toMatch(
      /^127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8, [^)]*\): refused by the operator's SSRF policy \(EndpointRefused\); allowlist it with --allowed-cidrs/,
    );
    expect(find('TLS')).toMatchObject({ result: 'fail' });
    expect(find('TLS')?.detail).toMatch(
      /does not verify \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) against the system roots: EndpointUnreachable/,
    );
    expect(find('discovery')?.result).toBe('fail');

    // The user's own CA file makes the TLS check (and discovery) pass from here.
    const dir = await mkdtemp(join(tmpdir(), 'coffre-cli-ca-'));
    await writeFile(join(dir, 'ca.pem'), team.server.caPem);
    const withCa = await cli(
      [
        'check',
        'billing',
        '-n',
        team.namespace,
        '--operator-namespace',
        nowhere,
        '--ca-file',
        join(dir, 'ca.pem'),
      ],
      kubeconfig,
    );
    expect(withCa.stdout).toMatch(/ok\s+TLS \(127\.0\.0\.1:\d+\)/);
    expect(withCa.stdout).toMatch(/ok\s+discovery/);
    expect(withCa.stdout).toMatch(/FAIL\s+SSRF policy/);
    expect(withCa.stdout).toMatch(/\n1 check failed\.\n$/);
    await expectNoSecretPrinted(team);
  });

  it('names the missing keys and says what to do, from the troubleshooting table', async () => {
    const team = await teamNamespace('cli-check-keys', { empty: false });
    await apply(team.namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'twilio' },
      stringData: { accountSid: 'AC0123', apiKeySid: team.canary },
    });
    await apply(team.namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'sms' },
      spec: { type: 'twilio', credentialsRef: { name: 'twilio' } },
    });
    await waitForCondition(team.namespace, 'sms', 'Empty', 'True', 'KeysMissing');
    const run = await cli(['check', 'sms', '-n', team.namespace], await kubeconfigFile());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(line(run.stdout, 'credentials Secret')).toMatch(
      /warn\s+credentials Secret\s+Secret twilio lacks required keys \(KeysMissing\) — api-key: accountSid, apiKeySid, apiKeySecret \(missing\) \| auth-token: accountSid, authToken \(missing\) \| oauth-app: clientId \(missing\), clientSecret \(missing\)$/,
    );
    expect(run.stdout).toMatch(
      /skip\s+token endpoint\s+twilio connections hold static credentials unless the Secret has an OAuth app's clientId and clientSecret: no token endpoint yet/,
    );
    expect(run.stdout).toMatch(
      /warn\s+operator reports\s+Ready=False KeysMissing: .*\n\s+What to do: The connection is Empty: create the Secret \(or add the keys the message names\)\. Nothing is broken; coffre picks it up at once\.\n/,
    );
    await expectNoSecretPrinted(team);
  });
});
