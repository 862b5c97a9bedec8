// kubectl coffre describe: conditions with their history from Events, the target Secret's keys and
// never its values, the OAuthClient, and what the caller (and a viewer) may see.
import { describe, expect, it } from 'vitest';
import { bindRole, cli, kubeconfigFile } from './support.ts';
import { expectNoSecretPrinted, teamNamespace } from './fixtures.ts';

describe('kubectl coffre describe', () => {
  it('shows conditions, their history, the target Secret keys without values, and the OAuthClient', async () => {
    const team = await teamNamespace('cli-describe');
    const admin = await kubeconfigFile();
    const run = await cli(['describe', 'billing', '-n', team.namespace], admin);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^Name: +billing$/m);
    expect(out).toMatch(/^State: +Ready \(TokenValid\)$/m);
    expect(out).toMatch(/^Credentials: +OAuthClient local$/m);
    expect(out).toMatch(/^Expires: +\S+Z \(in 9m\S*\)$/m);
    expect(out).toMatch(/^Shares token: +with invoices$/m);
    expect(out).toMatch(/^ {2}Ready +True +TokenValid +\d+s ago +token published to Secret billing-token/m);
    expect(out).toMatch(/^ {2}Empty +False +CredentialsPresent/m);
    // History: Events are recorded for problems and for changes after the first Ready; billing may
    // have been Ready at once (no Event) or after its OAuthClient (one Ready=True Event).
    expect(out).toMatch(
      /History \(Events\):\n( {2}none \(Events are kept for an hour\)\n| {2}AGE +TYPE +REASON +MESSAGE\n( {2}\d+s +\S+ +\S+ +Ready=\S+: .*\n)+)/,
    );
    expect(out).toMatch(
      /Target Secret billing-token \(keys only, values are never shown\):\n {2}Keys: access_token, expires_at, scope, token_type\n/,
    );
    expect(out).toMatch(/^ {2}coffre\.dev\/expires-at: \S+Z$/m);
    expect(out).toMatch(
      /OAuthClient local:\n {2}Issuer: +https:\/\/\S+\n {2}Token endpoint: +https:\/\/\S+\n {2}Auth method: +client_secret_post\n {2}Client ID: +m2m\n {2}Ready: +True \(ClientReady\)/,
    );
    expect(out).toMatch(/Secret keys \(get Secrets\): +yes/);

    const empty = await cli(['describe', 'crm', '-n', team.namespace], admin);
    expect(empty.stdout).toMatch(/^State: +! Empty \(SecretNotFound\)$/m);
    // A connection created with a problem: the Event of that problem.
    expect(empty.stdout).toMatch(
      /History \(Events\):\n {2}AGE +TYPE +REASON +MESSAGE\n( {2}.*\n)* {2}\d+s +Warning +SecretNotFound +Ready=False: /,
    );
    expect(empty.stdout).toMatch(/What to do \(SecretNotFound\): The connection is Empty: create the Secret/);
    expect(empty.stdout).toMatch(/Target Secret crm-token .*\n {2}not written yet/);

    const yaml = await cli(['describe', 'maps', '-n', team.namespace, '-o', 'json'], admin);
    const parsed = JSON.parse(yaml.stdout) as {
      targetSecret: { keys: string[] };
      history: { reason: string }[];
    };
    expect(parsed.targetSecret.keys).toEqual(['api_key']);
    // Ready at once raises no Event; seen before its Secret, it says that problem and the recovery.
    const reasons = parsed.history.map((e) => e.reason);
    expect(reasons.length === 0 || reasons.includes('CredentialsPublished'), reasons.join()).toBe(true);
    await expectNoSecretPrinted(team);
  });

  it('tells a coffre-view user what it cannot see, and shows the rest', async () => {
    const team = await teamNamespace('cli-describe-view', { empty: false });
    const viewer = 'viewer-describe';
    await bindRole(team.namespace, viewer, 'coffre-view');
    const run = await cli(
      ['describe', 'billing', '-n', team.namespace],
      await kubeconfigFile({ as: viewer }),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^State: +Ready \(TokenValid\)$/m);
    expect(run.stdout).toMatch(
      /History \(Events\):\n {2}not shown: you may not list Events in this namespace/,
    );
    expect(run.stdout).toMatch(
      /Target Secret billing-token .*\n {2}you may not get Secret billing-token \(keys need get on Secrets\)/,
    );
    expect(run.stdout).toMatch(/^ {2}Client ID: +m2m$/m);
    expect(run.stdout).toMatch(/Access \(as viewer-describe\):/);
    expect(run.stdout).toMatch(/Secret keys \(get Secrets\): +no/);
    expect(run.stdout).toMatch(/Renew \(patch the connection\): no/);
    await expectNoSecretPrinted(team);
  });
});
