// JSON schemas for offline validators (kubeconform, editors), laid out as kubeconform's
// `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` schema location expects.
import { GROUP, VERSION, resources } from '../../src/api/v1alpha1/resources.ts';
import { toPlainJson } from '../../src/api/v1alpha1/schema-kit.ts';

type Json = Record<string, unknown>;

/** Drops Kubernetes-only keywords; keeps additionalProperties: false so typos are caught offline. */
function toOffline(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOffline);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Json).map(([name, sub]) => [name, toOffline(sub)]),
      );
      continue;
    }
    out[key] = toOffline(value);
  }
  return out;
}

export function jsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const resource of Object.values(resources)) {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: `${resource.kind} (${GROUP}/${VERSION})`,
      ...(toOffline(toPlainJson(resource.schema)) as Json),
    };
    files.set(
      `schemas/${GROUP}/${resource.kind.toLowerCase()}_${VERSION}.json`,
      `${JSON.stringify(schema, null, 2)}\n`,
    );
  }
  return files;
}
