// Every connection type has its page, docs/providers/<type>.md, naming what the type's definition
// declares (the credentials Secret's keys, the settings, the published keys) with the sections a reader
// looks for; and every sample in manifests/samples/ is applied by name in an integration test (beyond
// the CRD round trip every sample gets), so that no sample is shipped without reaching Ready somewhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionTypes, connectionTypes } from '../../../src/connection-types/definitions.ts';
import { sampleFiles } from '../../support/samples.ts';

const root = join(import.meta.dirname, '../../..');
const page = (type: string) => join(root, 'docs/providers', `${type}.md`);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('docs/providers', () => {
  it.each(ConnectionTypes)('has a page for %s naming its keys, settings and sections', (type) => {
    expect(existsSync(page(type)), `docs/providers/${type}.md`).toBe(true);
    const text = readFileSync(page(type), 'utf8');
    const definition = connectionTypes[type];
    const keys = new Set(definition.variants.flatMap((v) => [...v.keys, ...(v.optionalKeys ?? [])]));
    for (const key of keys) expect(text, `credentials key ${key}`).toContain(`\`${key}\``);
    for (const key of Object.keys(definition.published))
      expect(text, `published key ${key}`).toContain(`\`${key}\``);
    for (const field of Object.keys(definition.settings.schema.properties))
      expect(text, `spec.${type}.${field}`).toContain(`\`${field}\``);
    for (const heading of ['## Published keys', '## Errors and the reasons coffre reports'])
      expect(text, heading).toContain(heading);
    expect(text, 'a section on token lifetime').toMatch(/^## .*[Ll]ifetime/m);
  });

  it('is listed in the README and has no page for a type that does not exist', () => {
    const pages = readdirSync(join(root, 'docs/providers')).filter((f) => f.endsWith('.md'));
    expect(pages.map((f) => f.replace(/\.md$/, '')).sort()).toEqual([...ConnectionTypes].sort());
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('docs/providers/');
  });
});

describe('the samples the pages link', () => {
  const pages = ConnectionTypes.map((type) => readFileSync(page(type), 'utf8')).join('\n');
  const linked = [...pages.matchAll(/manifests\/samples\/([\w.-]+\.yaml)/g)].map((m) => m[1] ?? '');

  it('exist', () => {
    for (const file of linked) expect(sampleFiles(), file).toContain(file);
  });

  it.each(sampleFiles().filter((f) => f !== 'empty.yaml'))('include %s', (file) => {
    expect(linked).toContain(file);
  });
});

describe('samples', () => {
  const integration = filesUnder(join(root, 'test/integration'))
    .filter((f) => f.endsWith('.test.ts') && !f.endsWith('crds.test.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

  it.each(sampleFiles())('applies %s by name in an integration test', (file) => {
    expect(integration).toContain(`'${file}'`);
  });
});
