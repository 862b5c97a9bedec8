// npm run generate: writes every generated file. `--check` exits 1 (listing them) when any is stale.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generatedFiles } from './generate/index.ts';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [path, content] of generatedFiles()) {
  const absolute = join(root, path);
  const current = await readFile(absolute, 'utf8').catch(() => undefined);
  if (current === content) continue;
  stale.push(path);
  if (!check) {
    await mkdir(dirname(absolute), { recursive: true });
    await writeFile(absolute, content);
  }
}
if (check && stale.length > 0) {
  console.error(`stale generated files (run npm run generate):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'generated files are up to date' : `wrote ${stale.join(', ')}`);
