// References from one coffre object to another object. Every reference stays inside the namespace of the
// object that holds it; `namespace` exists only so that a cross-namespace attempt is refused with a
// precise condition instead of being silently pruned.
import { Type, type Static } from '@sinclair/typebox';
import { NamespaceName, ObjectName, SecretKey, strictObject } from './schema-kit.ts';

export const LocalReferenceSchema = Type.Object(
  {
    name: ObjectName('Name of the object, in the same namespace.'),
    namespace: Type.Optional(
      NamespaceName(
        'Must be empty or equal to the namespace of this resource: references to other namespaces are refused.',
      ),
    ),
  },
  { ...strictObject, description: 'A reference to an object in the same namespace.' },
);
export type LocalReference = Static<typeof LocalReferenceSchema>;

export function secretKeyReference(defaultKey: string, purpose: string) {
  return Type.Object(
    {
      name: ObjectName(`Name of the Secret holding ${purpose}, in the same namespace.`),
      key: Type.Optional(SecretKey(`Key in the Secret. Defaults to \`${defaultKey}\`.`)),
      namespace: Type.Optional(NamespaceName('Must be empty or equal to the namespace of this resource.')),
    },
    { ...strictObject, description: `A key of a Secret in the same namespace that holds ${purpose}.` },
  );
}
export interface SecretKeyReference {
  name: string;
  key?: string;
  namespace?: string;
}
