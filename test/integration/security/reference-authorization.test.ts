// Reference authorization at admission, on the real API server with the chart's policy: a connection can
// only use what its author may read. Every reference field of the API (the same list the policy is
// generated from) is tried as a coffre-edit user without access to Secrets: refused, naming the field and
// the object; then accepted once that user may get / use / patch that one object. An update that keeps a
// reference is not re-checked. Users act through impersonation (Impersonate-User).
import { beforeAll, describe, expect, it } from 'vitest';
import { resources } from '../../../src/api/v1alpha1/resources.ts';
import { referenceFields, type ReferenceField } from '../../../src/api/v1alpha1/references.ts';
import { useTestNamespace } from '../../support/cluster.ts';
import { apply } from '../../support/kube.ts';
import {
  attempt,
  grant,
  personWithRole,
  personWithRules,
  waitForAccess,
  type Person,
} from '../../support/people.ts';

const API = '/apis/coffre.dev/v1alpha1/namespaces';
const path = (namespace: string, plural: string, name?: string) =>
  `${API}/${namespace}/${plural}${name === undefined ? '' : `/${name}`}`;

interface ReferenceCase {
  /** An object whose only reference is `field`, naming `target`. */
  object(name: string, target: string): Record<string, unknown>;
  /** The rule that lets a person use exactly that target. */
  permission(target: string): {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames: string[];
  };
  /** How the refusal names the target. */
  named(target: string): string;
}

const connection = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'VaultConnection',
  metadata: { name },
  spec,
});
const client = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'coffre.dev/v1alpha1',
  kind: 'OAuthClient',
  metadata: { name },
  spec: { issuer: 'https://login.example.com/', clientId: 'abc', ...spec },
});
const secretRule = (target: string) => ({
  apiGroups: [''],
  resources: ['secrets'],
  verbs: ['get'],
  resourceNames: [target],
});

/** One case per reference field; a field without a case fails the coverage test below. */
const cases: Record<string, ReferenceCase> = {
  'VaultConnection.spec.credentialsRef': {
    object: (name, target) => connection(name, { type: 'apiKey', credentialsRef: { name: target } }),
    permission: secretRule,
    named: (target) => `may not get Secret ${target}`,
  },
  'VaultConnection.spec.oauthClientRef': {
    object: (name, target) =>
      connection(name, { type: 'oauth2', oauthClientRef: { name: target }, oauth2: { scopes: ['a'] } }),
    permission: (target) => ({
      apiGroups: ['coffre.dev'],
      resources: ['oauthclients'],
      verbs: ['use'],
      resourceNames: [target],
    }),
    named: (target) => `may not use OAuthClient ${target}`,
  },
  'VaultConnection.spec.rolloutRestartTargets': {
    object: (name, target) =>
      connection(name, { type: 'apiKey', rolloutRestartTargets: [{ kind: 'Deployment', name: target }] }),
    permission: (target) => ({
      apiGroups: ['apps'],
      resources: ['deployments'],
      verbs: ['patch'],
      resourceNames: [target],
    }),
    named: (target) => `may not patch all of Deployment ${target}`,
  },
  'OAuthClient.spec.clientSecretRef': {
    object: (name, target) => client(name, { clientSecretRef: { name: target } }),
    permission: secretRule,
    named: (target) => `may not get Secret ${target}`,
  },
  'OAuthClient.spec.privateKeyRef': {
    object: (name, target) =>
      client(name, { authMethod: 'private_key_jwt', privateKeyRef: { name: target } }),
    permission: secretRule,
    named: (target) => `may not get Secret ${target}`,
  },
};

const fields: [string, string, ReferenceField][] = Object.values(resources).flatMap((r) =>
  referenceFields(r.schema).map(
    (f) => [`${r.kind}.${f.path.join('.')}`, r.plural, f] as [string, string, ReferenceField],
  ),
);

/** The only rules an editor without coffre-edit's `use` has: create coffre objects. */
const writeOnly = [
  {
    apiGroups: ['coffre.dev'],
    resources: ['vaultconnections', 'oauthclients'],
    verbs: ['create', 'get', 'update', 'patch'],
  },
];

let namespace: string;
let editor: Person;

beforeAll(async () => {
  namespace = await useTestNamespace('refs');
  editor = await personWithRole(namespace, 'coffre-edit', 'editor');
}, 60_000);

describe('reference authorization at admission', () => {
  it('has a case for every reference field of the API', () => {
    expect(fields.map(([id]) => id).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(fields)(
    '%s: refused to a user who may not use the object, naming the field and the object; accepted once they may',
    async (id, plural, field) => {
      const refCase = cases[id];
      if (refCase === undefined) throw new Error(`no case for ${id}`);
      const target = `target-${plural.slice(0, 5)}-${field.path.at(-1)?.toLowerCase() ?? ''}`;
      // oauthClientRef: coffre-edit carries `use`, so the refused user is one with write access only.
      const person =
        field.access.verb === 'use' ? await personWithRules(namespace, writeOnly, 'writer') : editor;
      const name = `${person.name}-${field.path.at(-1)?.toLowerCase() ?? ''}`.slice(0, 60);
      const refused = await attempt(person, path(namespace, plural), 'POST', refCase.object(name, target));
      expect(refused.status).toBe(403);
      expect(refused.message).toContain(field.path.join('.'));
      expect(refused.message).toContain(refCase.named(target));
      expect(refused.message).toContain(person.name);

      await grant(namespace, person.name, [refCase.permission(target)]);
      const { apiGroups, resources: res, verbs } = refCase.permission(target);
      await waitForAccess(person.name, {
        group: apiGroups[0] ?? '',
        resource: res[0] ?? '',
        verb: verbs[0] ?? '',
        namespace,
        name: target,
      });
      const accepted = await attempt(person, path(namespace, plural), 'POST', refCase.object(name, target));
      expect(accepted.message).not.toContain('may not');
      expect(accepted.status).toBe(201);
    },
  );

  it('lets coffre-edit use an OAuthClient of its namespace without any access to its Secret', async () => {
    const accepted = await attempt(
      editor,
      path(namespace, 'vaultconnections'),
      'POST',
      cases['VaultConnection.spec.oauthClientRef']?.object('uses-shared-client', 'shared-client'),
    );
    expect(accepted.status).toBe(201);
    const secret = await editor.http.send(`/api/v1/namespaces/${namespace}/secrets/shared-client`);
    await secret.body?.cancel();
    expect(secret.status).toBe(403);
  });

  it('does not re-check a reference an update keeps, and checks one it changes', async () => {
    // An admin declares the connection; the editor may annotate it (force a refresh), not repoint it.
    await apply(
      namespace,
      connection('admin-made', { type: 'apiKey', credentialsRef: { name: 'payments-db' } }),
    );
    const annotated = await attempt(
      editor,
      path(namespace, 'vaultconnections', 'admin-made'),
      'PATCH',
      { metadata: { annotations: { 'coffre.dev/force-refresh': '1' } } },
      'application/merge-patch+json',
    );
    expect(annotated.status).toBe(200);
    const repointed = await attempt(
      editor,
      path(namespace, 'vaultconnections', 'admin-made'),
      'PATCH',
      { spec: { credentialsRef: { name: 'postgres-admin' } } },
      'application/merge-patch+json',
    );
    expect(repointed.status).toBe(403);
    expect(repointed.message).toContain('spec.credentialsRef');
    expect(repointed.message).toContain('may not get Secret postgres-admin');

    await apply(namespace, client('admin-client', { clientSecretRef: { name: 'payments-db' } }));
    const rotatedId = await attempt(
      editor,
      path(namespace, 'oauthclients', 'admin-client'),
      'PATCH',
      { spec: { clientId: 'rotated' } },
      'application/merge-patch+json',
    );
    expect(rotatedId.status).toBe(200);
  });

  it('checks only the workloads an update adds to rolloutRestartTargets', async () => {
    await apply(
      namespace,
      connection('restarts', {
        type: 'apiKey',
        rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
      }),
    );
    const kept = await attempt(
      editor,
      path(namespace, 'vaultconnections', 'restarts'),
      'PATCH',
      { metadata: { labels: { team: 'payments' } } },
      'application/merge-patch+json',
    );
    expect(kept.status).toBe(200);
    const added = await attempt(
      editor,
      path(namespace, 'vaultconnections', 'restarts'),
      'PATCH',
      {
        spec: {
          rolloutRestartTargets: [
            { kind: 'Deployment', name: 'api' },
            { kind: 'StatefulSet', name: 'ledger' },
          ],
        },
      },
      'application/merge-patch+json',
    );
    expect(added.status).toBe(403);
    expect(added.message).toContain('may not patch all of StatefulSet ledger in namespace');
    expect(added.message).not.toContain('Deployment api');
  });

  it('checks a dry run as it checks a write', async () => {
    const response = await editor.http.send(path(namespace, 'vaultconnections'), {
      method: 'POST',
      query: { dryRun: 'All' },
      contentType: 'application/json',
      body: JSON.stringify(cases['VaultConnection.spec.credentialsRef']?.object('dry', 'postgres-admin')),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('may not get Secret postgres-admin');
  });
});
