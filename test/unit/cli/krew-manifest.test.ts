// The krew manifest: one platform entry per release archive, with its sha256, the binary at the top.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { krewManifest } from '../../../scripts/cli/krew-manifest.ts';

describe('krew manifest', () => {
  it(
    'names each archive with its sha256, and refuses a version krew would not take',
    { timeout: 30_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'coffre-krew-'));
      const archive = join(dir, 'kubectl-coffre_linux_amd64.tar.gz');
      await writeFile(archive, 'not really a tarball');
      const text = execFileSync(process.execPath, [
        new URL('../../../scripts/cli/krew-manifest.ts', import.meta.url).pathname,
        '--version',
        'v0.1.0',
        `linux/amd64=${archive}`,
      ]).toString();
      const manifest = parse(text) as { kind: string; spec: { version: string; platforms: unknown[] } };
      expect(manifest.kind).toBe('Plugin');
      expect(manifest.spec.version).toBe('v0.1.0');
      expect(manifest.spec.platforms).toEqual([
        {
          selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
          uri: 'https://github.com/coffre-dev/coffre/releases/download/v0.1.0/kubectl-coffre_linux_amd64.tar.gz',
          // sha256sum of "not really a tarball"
          sha256: 'b3b786ecd6e4f6ab3398d0b1bfd62dbc47534c8723cd3802f642f7203a3b55d7',
          bin: 'kubectl-coffre',
          files: [
            { from: 'kubectl-coffre', to: '.' },
            { from: 'LICENSE', to: '.' },
          ],
        },
      ]);
      expect(() => krewManifest('0.1.0', [])).toThrow(/krew wants vMAJOR/);
    },
  );
});
