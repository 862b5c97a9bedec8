// The krew plugin manifest of kubectl-coffre (`kubectl krew install --manifest=coffre.yaml`), with the
// sha256 of each release archive. A single executable is built per platform from that platform's Node
// binary (npm run build:sea on it), packed as kubectl-coffre_<os>_<arch>.tar.gz with the binary and
// LICENSE at the top; this script writes the manifest for the archives given.
//
//   node scripts/cli/krew-manifest.ts --version v0.1.0 linux/amd64=dist/kubectl-coffre_linux_amd64.tar.gz ...
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';

export const RELEASES = 'https://github.com/coffre-dev/coffre/releases/download';

export interface KrewPlatform {
  os: string;
  arch: string;
  uri: string;
  sha256: string;
}

export function krewManifest(version: string, platforms: readonly KrewPlatform[]): Record<string, unknown> {
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
    throw new Error(`version ${version}: krew wants vMAJOR.MINOR.PATCH`);
  if (platforms.length === 0) throw new Error('no platform archive given');
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'coffre' },
    spec: {
      version,
      homepage: 'https://github.com/coffre-dev/coffre',
      shortDescription: 'Status, diagnosis and renewal of coffre connections',
      description: [
        'kubectl coffre shows the state of coffre VaultConnections (Ready, Empty, Expired), describes one',
        "with its conditions' history and its Secret's keys (never values), diagnoses one (Secrets and",
        "keys, the operator's SSRF policy, TLS, discovery), renews its token, and creates one",
        'interactively, secrets read without echo, or as YAML for a GitOps repository.',
      ].join('\n'),
      platforms: platforms.map((p) => {
        if (!/^[0-9a-f]{64}$/.test(p.sha256)) throw new Error(`${p.uri}: not a sha256`);
        return {
          selector: { matchLabels: { os: p.os, arch: p.arch } },
          uri: p.uri,
          sha256: p.sha256,
          bin: 'kubectl-coffre',
          files: [
            { from: 'kubectl-coffre', to: '.' },
            { from: 'LICENSE', to: '.' },
          ],
        };
      }),
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { version: { type: 'string' } },
    allowPositionals: true,
  });
  const version = values.version ?? '';
  const platforms: KrewPlatform[] = [];
  for (const entry of positionals) {
    const [platform = '', file = ''] = entry.split('=');
    const [os = '', arch = ''] = platform.split('/');
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    platforms.push({ os, arch, uri: `${RELEASES}/${version}/${basename(file)}`, sha256 });
  }
  process.stdout.write(stringify(krewManifest(version, platforms)));
}

if (import.meta.main) await main();
