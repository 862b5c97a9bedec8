// References from one coffre object to another object. Every reference stays inside the namespace of the
// object that holds it; `namespace` exists only so that a cross-namespace attempt is refused with a
// precise condition instead of being silently pruned.
//
// Each reference schema carries, under the REFERENCE symbol, what using it means in RBAC terms: the
// admission policy (scripts/generate/admission-policy.ts) is derived from these markers, and a test
// fails when a `*Ref` field has none, so a new reference cannot be forgotten by the policy.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { GROUP } from './group.ts';
import { NamespaceName, ObjectName, SecretKey, strictObject } from './schema-kit.ts';

/** Symbol key on a reference schema: JSON.stringify drops it, so it never reaches a CRD. */
export const REFERENCE = Symbol.for('coffre.dev/reference');

/** What the author of a reference must be allowed to do to the object it names. */
export interface ReferenceAccess {
  /** Kind named in messages. */
  kind: string;
  group: string;
  /** The resource; or, for a reference with a `kind` field, the resource of each kind. */
  resource: string | Readonly<Record<string, string>>;
  verb: string;
}

/** Referencing a Secret hands its content to coffre: the author must be able to read it. */
export const SECRET_ACCESS: ReferenceAccess = { kind: 'Secret', group: '', resource: 'secrets', verb: 'get' };
/**
 * Referencing an OAuthClient makes coffre authenticate with its secret: the author needs the custom verb
 * `use` on it (as PodSecurityPolicy had), so an admin can share a client without sharing its secret.
 */
export const OAUTH_CLIENT_ACCESS: ReferenceAccess = {
  kind: 'OAuthClient',
  group: GROUP,
  resource: 'oauthclients',
  verb: 'use',
};

/** Restarting a workload patches its pod template: the author must be allowed that patch. */
export const WORKLOAD_RESTART_ACCESS: ReferenceAccess = {
  kind: 'workload',
  group: 'apps',
  resource: { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' },
  verb: 'patch',
};

export function referenceAccess(schema: TSchema): ReferenceAccess | undefined {
  return (schema as { [REFERENCE]?: ReferenceAccess })[REFERENCE];
}

const namespaceField = () =>
  Type.Optional(
    NamespaceName(
      'Must be empty or equal to the namespace of this resource: references to other namespaces are refused.',
    ),
  );

export const LocalReferenceSchema = Type.Object(
  { name: ObjectName('Name of the object, in the same namespace.'), namespace: namespaceField() },
  { ...strictObject, description: 'A reference to an object in the same namespace.' },
);
export type LocalReference = Static<typeof LocalReferenceSchema>;

/** A reference to an object of the same namespace, marked with the access its author needs. */
export function localReference(access: ReferenceAccess, description: string) {
  return Type.Unsafe<LocalReference>({ ...LocalReferenceSchema, description, [REFERENCE]: access });
}

export function secretKeyReference(defaultKey: string, purpose: string) {
  return Type.Object(
    {
      name: ObjectName(`Name of the Secret holding ${purpose}, in the same namespace.`),
      key: Type.Optional(SecretKey(`Key in the Secret. Defaults to \`${defaultKey}\`.`)),
      namespace: Type.Optional(NamespaceName('Must be empty or equal to the namespace of this resource.')),
    },
    {
      ...strictObject,
      description: `A key of a Secret in the same namespace that holds ${purpose}.`,
      [REFERENCE]: SECRET_ACCESS,
    },
  );
}
export interface SecretKeyReference {
  name: string;
  key?: string;
  namespace?: string;
}

/** A reference field found in a kind's schema. */
export interface ReferenceField {
  /** Path from the object root, e.g. `['spec', 'credentialsRef']`. */
  path: readonly string[];
  /** A list of references (each item is one), e.g. rolloutRestartTargets. */
  list: boolean;
  access: ReferenceAccess;
}

/** Every reference field of a schema, in declaration order: the one list the admission policy covers. */
export function referenceFields(schema: TSchema, path: readonly string[] = []): ReferenceField[] {
  const found: ReferenceField[] = [];
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const [name, property] of Object.entries(properties)) {
    const here = [...path, name];
    const access = referenceAccess(property);
    const items = (property as { items?: TSchema }).items;
    const itemAccess = items === undefined ? undefined : referenceAccess(items);
    if (access !== undefined) found.push({ path: here, list: false, access });
    else if (itemAccess !== undefined) found.push({ path: here, list: true, access: itemAccess });
    else found.push(...referenceFields(property, here));
  }
  return found;
}
