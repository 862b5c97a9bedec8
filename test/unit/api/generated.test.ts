import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatedFiles } from '../../../scripts/generate/index.ts';

const root = join(import.meta.dirname, '../../..');

describe('generated files', () => {
  it.each([...generatedFiles().keys()])('%s is up to date (run npm run generate)', (path) => {
    const onDisk = readFileSync(join(root, path), 'utf8');
    expect(onDisk).toBe(generatedFiles().get(path));
  });

  it('CRDs carry no keyword that a structural schema forbids', () => {
    for (const [path, content] of generatedFiles()) {
      if (!path.startsWith('crds/')) continue;
      const text = JSON.stringify(parse(content));
      expect(text, path).not.toContain('"additionalProperties":false');
      expect(text, path).not.toContain('"const"');
      expect(text, path).not.toContain('"anyOf"');
      expect(text, path).not.toContain('"check"');
    }
  });
});
