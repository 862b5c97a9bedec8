// Every generated file, by path. Pure; used by scripts/generate.ts (writes) and by the freshness test.
import { apiDocsFiles } from './api-docs.ts';
import { crdFiles } from './crds.ts';
import { jsonSchemaFiles } from './json-schemas.ts';

export function generatedFiles(): Map<string, string> {
  return new Map([...crdFiles(), ...jsonSchemaFiles(), ...apiDocsFiles()]);
}
