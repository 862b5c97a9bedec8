// The ValidatingAdmissionPolicy that authorizes references at admission, from the reference markers of
// the API source (src/api/v1alpha1/references.ts). Pure: returns file contents; scripts/generate.ts
// writes them, and the chart's templates/admission-policy.yaml loads the file and adds the binding.
//
// The rule, for every reference field of every kind: on create, and on an update that changes the
// reference, the requesting user must be allowed the reference's verb on the object it names (`get` on a
// Secret, `use` on an OAuthClient, `patch` on a workload). Otherwise an editor without access to Secrets
// could make coffre — which can read them — send any Secret of the namespace to a host of their choice.
import { stringify } from 'yaml';
import { GROUP, VERSION, resources } from '../../src/api/v1alpha1/resources.ts';
import { referenceFields, type ReferenceField } from '../../src/api/v1alpha1/references.ts';
import { GENERATED_HEADER } from './crds.ts';

export const REFERENCE_POLICY_NAME = `references.${GROUP}`;
export const REFERENCE_POLICY_PATH = 'charts/coffre/files/admission/reference-policy.yaml';

interface PolicyValidation {
  expression: string;
  messageExpression: string;
  reason: 'Forbidden';
}

/** `has(a.b) && has(a.b.c)` for the optional parents of a path (spec itself is required). */
function presence(root: string, path: readonly string[]): string {
  const checks: string[] = [];
  for (let i = 1; i < path.length; i++) checks.push(`has(${[root, ...path.slice(0, i + 1)].join('.')})`);
  return checks.join(' && ');
}

function resourceExpression(resource: string | Readonly<Record<string, string>>, item: string): string {
  if (typeof resource === 'string') return `'${resource}'`;
  const entries = Object.entries(resource);
  const last = entries.at(-1);
  if (last === undefined) throw new Error('a reference names no resource');
  return entries
    .slice(0, -1)
    .reduceRight(
      (otherwise, [kind, plural]) => `${item}.kind == '${kind}' ? '${plural}' : ${otherwise}`,
      `'${last[1]}'`,
    );
}

function check(field: ReferenceField, item: string): string {
  const { group, resource, verb } = field.access;
  return `authorizer.group('${group}').resource(${resourceExpression(resource, item)}).namespace(request.namespace).name(${item}.name).check('${verb}').allowed()`;
}

export function referenceValidation(plural: string, field: ReferenceField): PolicyValidation {
  const dotted = field.path.join('.');
  const value = `object.${dotted}`;
  const old = `oldObject.${dotted}`;
  const forThisKind = `request.resource.resource != '${plural}'`;
  const present = presence('object', field.path);
  const user = `request.userInfo.username`;
  const { kind, verb } = field.access;
  if (!field.list) {
    // An update that keeps the reference is not re-checked: the author who set it was authorized, and
    // an unrelated change (an annotation, a scope) by someone else must not be refused for it.
    const unchanged = `(request.operation == 'UPDATE' && ${presence('oldObject', field.path)} && ${old}.name == ${value}.name)`;
    return {
      expression: `${forThisKind} || !(${present}) || ${unchanged} || ${check(field, value)}`,
      messageExpression: `'${dotted}: ' + ${user} + ' may not ${verb} ${kind} ' + ${value}.name + ' in namespace ' + request.namespace + ', so may not make coffre use it'`,
      reason: 'Forbidden',
    };
  }
  const kept = `(request.operation == 'UPDATE' && ${presence('oldObject', field.path)} && t in ${old})`;
  // messageExpression cannot call the authorizer: the refusal names every item the request adds, of
  // which at least one the user may not act on.
  return {
    expression: `${forThisKind} || !(${present}) || ${value}.all(t, ${kept} || ${check(field, 't')})`,
    messageExpression: `'${dotted}: ' + ${user} + ' may not ${verb} all of ' + ${value}.filter(t, !${kept}).map(t, t.kind + ' ' + t.name).join(', ') + ' in namespace ' + request.namespace + ', so may not make coffre act on them'`,
    reason: 'Forbidden',
  };
}

const same = (field: string) =>
  `(has(object.metadata.${field}) ? object.metadata.${field} : {}) == (has(oldObject.metadata.${field}) ? oldObject.metadata.${field} : {})`;

/**
 * Whoever may patch VaultConnections but not update them — the operator, which patches only to add or
 * remove its revokeOnDelete finalizer — changes nothing but metadata.finalizers: RBAC cannot scope a
 * patch to a field, this does, so the operator still cannot write a spec (docs/install.md).
 */
export const finalizerOnlyValidation: PolicyValidation = {
  expression: `request.resource.resource != 'vaultconnections' || request.operation != 'UPDATE' || authorizer.group('${GROUP}').resource('vaultconnections').namespace(request.namespace).name(object.metadata.name).check('update').allowed() || (object.spec == oldObject.spec && ${same('labels')} && ${same('annotations')})`,
  messageExpression: `request.userInfo.username + ' may patch but not update vaultconnections: only metadata.finalizers may change'`,
  reason: 'Forbidden',
};

export function referencePolicy(): Record<string, unknown> {
  const kinds = Object.values(resources);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: REFERENCE_POLICY_NAME,
      labels: { 'app.kubernetes.io/name': 'coffre', 'app.kubernetes.io/component': 'admission-policy' },
    },
    spec: {
      // A policy that cannot be evaluated refuses: an unchecked reference is the hole this closes.
      failurePolicy: 'Fail',
      // matchConstraints is atomic: every field the API server would default is written out, or a
      // server-side apply by another manager (Argo CD, Flux, helm) conflicts with the stored defaults.
      matchConstraints: {
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        objectSelector: {},
        resourceRules: [
          {
            apiGroups: [GROUP],
            apiVersions: [VERSION],
            operations: ['CREATE', 'UPDATE'],
            resources: kinds.map((k) => k.plural),
            scope: '*',
          },
        ],
      },
      validations: [
        ...kinds.flatMap((k) =>
          referenceFields(k.schema).map((field) => referenceValidation(k.plural, field)),
        ),
        finalizerOnlyValidation,
      ],
    },
  };
}

export function admissionPolicyFiles(): Map<string, string> {
  return new Map([
    [REFERENCE_POLICY_PATH, GENERATED_HEADER + stringify(referencePolicy(), { lineWidth: 0 })],
  ]);
}
