// Every generated file, by path. Pure; used by scripts/generate.ts (writes) and by the freshness test.
import { admissionPolicyFiles } from './admission-policy.ts';
import { apiDocsFiles } from './api-docs.ts';
import { configurationDocsFiles } from './configuration-docs.ts';
import { crdFiles } from './crds.ts';
import { jsonSchemaFiles } from './json-schemas.ts';

/** The chart carries its own copy of the CRDs: Helm reads only files inside the chart. */
function chartCrdFiles(crds: Map<string, string>): Map<string, string> {
  return new Map(
    [...crds].map(([path, content]) => [path.replace(/^crds\//, 'charts/coffre/files/crds/'), content]),
  );
}

export function generatedFiles(): Map<string, string> {
  const crds = crdFiles();
  return new Map([
    ...crds,
    ...chartCrdFiles(crds),
    ...jsonSchemaFiles(),
    ...apiDocsFiles(),
    ...configurationDocsFiles(),
    ...admissionPolicyFiles(),
  ]);
}
