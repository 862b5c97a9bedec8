// People on the test control plane: a user bound to a role in a namespace, acting through impersonation
// (Impersonate-User, as `kubectl --as`), with one-off grants on named objects.
import { randomBytes } from 'node:crypto';
import type { KubeHttp } from '../../src/controller/kube-http.ts';
import { impersonating } from './admission.ts';
import { subjectMay, type ResourceAttributes } from './operator-identity.ts';
import { clusterKubeConfig } from './cluster.ts';
import { kube } from './kube.ts';
import { waitUntil } from './wait.ts';

export interface Person {
  name: string;
  http: KubeHttp;
}

/** Waits until the API server's authorizer has learnt a binding (it reads them from informers). */
export async function waitForAccess(user: string, attributes: ResourceAttributes): Promise<void> {
  const may = () => subjectMay(kube(), user, attributes, ['system:authenticated']);
  await waitUntil(`${user} may ${attributes.verb} ${attributes.resource}`, may, {
    timeoutMs: 15_000,
  });
}

async function create(path: string, body: unknown): Promise<void> {
  await kube().json(path, { method: 'POST', contentType: 'application/json', body: JSON.stringify(body) });
}

/** A user bound to a ClusterRole in one namespace. */
export async function personWithRole(
  namespace: string,
  clusterRole: string,
  prefix = 'user',
): Promise<Person> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${name}-${clusterRole}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }],
  });
  await waitForAccess(name, { group: 'coffre.dev', resource: 'vaultconnections', verb: 'create', namespace });
  return { name, http: impersonating(clusterKubeConfig(), name) };
}

/** A user bound to a Role with exactly these rules in one namespace. */
export async function personWithRules(
  namespace: string,
  rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[],
  prefix = 'user',
): Promise<Person> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await grant(namespace, name, rules);
  const first = rules[0];
  if (first !== undefined) {
    await waitForAccess(name, {
      group: first.apiGroups[0] ?? '',
      resource: first.resources[0] ?? '',
      verb: first.verbs[0] ?? '',
      namespace,
      ...(first.resourceNames?.[0] === undefined ? {} : { name: first.resourceNames[0] }),
    });
  }
  return { name, http: impersonating(clusterKubeConfig(), name) };
}

/** Grants a user more rules in a namespace (a Role and RoleBinding of their own). */
export async function grant(
  namespace: string,
  user: string,
  rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[],
): Promise<void> {
  const role = `${user}-${randomBytes(3).toString('hex')}`;
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: role },
    rules,
  });
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: role },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
}

export interface Attempt {
  status: number;
  message: string;
}

/** Sends a write as a person; resolves with the status and the Status message (never throws on 4xx). */
export async function attempt(
  person: Person,
  path: string,
  method: 'POST' | 'PATCH' | 'PUT',
  body: unknown,
  contentType = 'application/json',
): Promise<Attempt> {
  const response = await person.http.send(path, { method, contentType, body: JSON.stringify(body) });
  const text = await response.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, message };
}
