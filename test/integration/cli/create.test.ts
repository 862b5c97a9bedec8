// kubectl coffre create: the "Add Vault Connection" flow under a real pseudo-terminal, prompts answered
// by the test, secrets read without echo; --empty; --dry-run=client -o yaml for a GitOps repository.
import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply, getSecret, kube, secretText, waitForCondition } from '../../support/kube.ts';
import { grant, waitForAccess } from '../../support/people.ts';
import { startTestOperator } from '../../support/operator.ts';
import { bindRole, cli, CLI, kubeconfigFile, shellQuote, underTerminal } from './support.ts';

/** A coffre-edit user who may also create and read the namespace's Secrets: what `create` needs. */
async function editor(namespace: string, name: string): Promise<string> {
  await bindRole(namespace, name, 'coffre-edit');
  await grant(namespace, name, [
    { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'delete'] },
  ]);
  await waitForAccess(name, { resource: 'secrets', verb: 'create', namespace });
  return kubeconfigFile({ as: name });
}

describe('kubectl coffre create', () => {
  it('asks for the settings and credentials on a terminal, the secret without echo, and creates both objects', async () => {
    const namespace = await useTestNamespace('cli-create');
    await startTestOperator({ namespace });
    const kubeconfig = await editor(namespace, 'editor-create');
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const run = await underTerminal(
      shellQuote([process.execPath, CLI, 'create', 'twilio', 'sms', '-n', namespace]),
      { KUBECONFIG: kubeconfig },
      [
        {
          when: 'Credentials — 1) api-key: accountSid, apiKeySid, apiKeySecret; 2) auth-token: accountSid, authToken; 3) oauth-app: clientId, clientSecret [1]: ',
          send: '2\r',
        },
        { when: 'accountSid: ', send: 'AC0123456789abcdef0123456789abcdef\r' },
        { when: 'authToken (input hidden): ', send: `${canary}\r` },
      ],
    );
    expect(run.code).toBe(0);
    // The visible answer is echoed; the secret one is not, though it went through a terminal.
    expect(run.stdout).toContain('accountSid: AC0123456789abcdef0123456789abcdef\r\n');
    expect(run.stdout).toContain('authToken (input hidden): \r\n');
    expect(run.stdout).not.toContain(canary);
    expect(run.stdout).toContain('secret/sms created\r\nvaultconnection/sms created\r\n');
    const secret = await getSecret(namespace, 'sms');
    expect(secretText(secret, 'authToken')).toBe(canary);
    expect(secretText(secret, 'accountSid')).toBe('AC0123456789abcdef0123456789abcdef');
    const connection = await waitForCondition(namespace, 'sms', 'Ready', 'True', 'CredentialsPublished');
    expect(connection.spec).toEqual({ type: 'twilio', credentialsRef: { name: 'sms' } });
  });

  it('asks again for a required answer left blank, and takes settings from flags', async () => {
    const namespace = await useTestNamespace('cli-create-auth0');
    const kubeconfig = await editor(namespace, 'editor-auth0');
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const run = await underTerminal(
      shellQuote([
        process.execPath,
        CLI,
        'create',
        'auth0',
        'mgmt',
        '-n',
        namespace,
        '--scopes',
        'read:users',
      ]),
      { KUBECONFIG: kubeconfig },
      [
        { when: 'Auth0 tenant domain (e.g. acme.eu.auth0.com): ', send: '\r' },
        { when: 'Auth0 tenant domain (e.g. acme.eu.auth0.com): ', send: 'acme.eu.auth0.com\r' },
        { when: 'Audience [https://acme.eu.auth0.com/api/v2/]: ', send: '\r' },
        { when: 'clientId: ', send: 'Qx3f\r' },
        { when: 'clientSecret (input hidden): ', send: `${canary}\u007f${canary.slice(-1)}\r` },
      ],
    );
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(canary);
    const vc = await kube().json<{ spec: unknown }>(
      `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections/mgmt`,
    );
    expect(vc.spec).toEqual({
      type: 'auth0',
      credentialsRef: { name: 'mgmt' },
      auth0: { domain: 'acme.eu.auth0.com', scopes: ['read:users'] },
    });
    // Backspace removed the last character typed, and the same one was typed again.
    expect(secretText(await getSecret(namespace, 'mgmt'), 'clientSecret')).toBe(canary);
  });

  it('creates an empty connection with --empty, Ready once its Secret exists', async () => {
    const namespace = await useTestNamespace('cli-create-empty');
    await startTestOperator({ namespace });
    const kubeconfig = await editor(namespace, 'editor-empty');
    const run = await cli(['create', 'apiKey', 'crm', '--empty', '-n', namespace], kubeconfig);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `vaultconnection/crm created\nIt is Empty until its credentials exist: kubectl -n ${namespace} create secret generic crm --from-literal=apiKey=...\n`,
    );
    await waitForCondition(namespace, 'crm', 'Empty', 'True', 'SecretNotFound');
    await apply(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'crm' },
      stringData: { apiKey: 'hello' },
    });
    await waitForCondition(namespace, 'crm', 'Ready', 'True', 'CredentialsPublished');

    const noTerminal = await cli(['create', 'auth0', 'mgmt', '-n', namespace], kubeconfig);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toBe('error: missing --domain (no terminal to ask on)\n');
    const taken = await cli(
      ['create', 'apiKey', 'crm', '--from-literal', 'apiKey=x', '-n', namespace],
      kubeconfig,
    );
    expect(taken.code).toBe(2);
    expect(taken.stderr).toBe(
      `error: Secret crm already exists in ${namespace}: choose --secret-name, or delete it\n`,
    );
  });

  it('prints the connection and a Secret stub with --dry-run=client -o yaml, creating nothing', async () => {
    const namespace = await useTestNamespace('cli-create-dry');
    const kubeconfig = await kubeconfigFile();
    const run = await cli(
      [
        'create',
        'auth0',
        'mgmt',
        '-n',
        namespace,
        '--domain',
        'acme.eu.auth0.com',
        '--audience',
        'https://api.acme.test/',
        '--scopes',
        'read:users,create:users',
        '--dry-run=client',
        '-o',
        'yaml',
        '--from-literal',
        'clientSecret=do-not-print-me',
      ],
      kubeconfig,
    );
    expect(run.stderr).toBe(
      'warning: a dry run prints the Secret as a stub: the --from-literal values are left out\n',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('do-not-print-me');
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'mgmt', namespace, labels: { 'coffre.dev/credentials-for': 'mgmt' } },
        type: 'Opaque',
        stringData: { clientId: '', clientSecret: '' },
      },
      {
        apiVersion: 'coffre.dev/v1alpha1',
        kind: 'VaultConnection',
        metadata: { name: 'mgmt', namespace },
        spec: {
          type: 'auth0',
          credentialsRef: { name: 'mgmt' },
          auth0: {
            domain: 'acme.eu.auth0.com',
            audience: 'https://api.acme.test/',
            scopes: ['read:users', 'create:users'],
          },
        },
      },
    ]);
    const stored = await kube().send(
      `/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections/mgmt`,
    );
    await stored.body?.cancel();
    expect(stored.status).toBe(404);
    // What it printed, the API server accepts (a server-side dry run).
    const accepted = await kube().send(`/apis/coffre.dev/v1alpha1/namespaces/${namespace}/vaultconnections`, {
      method: 'POST',
      query: { dryRun: 'All' },
      contentType: 'application/json',
      body: JSON.stringify(docs[1]),
    });
    expect(`${accepted.status} ${await accepted.text()}`).toMatch(/^201 /);

    const invalid = await cli(
      ['create', 'zendesk', 'desk', '--subdomain', 'Not_A_Label', '--dry-run=client'],
      kubeconfig,
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: the connection would be refused: .*spec\.zendesk\.subdomain/);
  });
});
