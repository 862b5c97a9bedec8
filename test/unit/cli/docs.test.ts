// docs/kubectl-coffre.md is the contract: its flags tables and session are generated (and current), every
// command has its section, and every flag it or the README names exists.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC, expectedDoc } from '../../../scripts/cli/generate-docs.ts';
import { commands } from '../../../src/cli/main.ts';

const doc = readFileSync(DOC, 'utf8');
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
/** Flags of other programs the documents name: kubectl annotate, krew, npm, the operator, the krew script. */
const foreign = new Set(['overwrite', 'manifest', 'version', 'save-dev', 'allowed-cidrs']);

describe('docs/kubectl-coffre.md', () => {
  it('is up to date with the commands and the recorded session (node scripts/cli/generate-docs.ts)', async () => {
    expect(doc).toBe(await expectedDoc());
  });

  it('has a section for every command', () => {
    for (const command of commands) {
      expect(doc).toContain(`### \`kubectl coffre ${command.usage.replace(' [flags]', '')}\``);
    }
  });

  it.each([
    ['docs/kubectl-coffre.md', doc],
    [
      'README.md',
      readme.slice(
        readme.indexOf('## kubectl coffre'),
        readme.indexOf('\n## ', readme.indexOf('## kubectl coffre') + 3),
      ),
    ],
  ])('names in %s only flags that exist', (_name, text) => {
    expect(text.length).toBeGreaterThan(100);
    const known = new Set(['help', ...commands.flatMap((c) => Object.keys(c.flags))]);
    const named = new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1] ?? ''));
    expect(named.size).toBeGreaterThan(3);
    for (const flag of named) {
      if (!foreign.has(flag)) expect(known, `--${flag}`).toContain(flag);
    }
  });

  it('shows a session in which no secret is typed back', () => {
    expect(doc).toMatch(/```console\n\$ kubectl coffre status -n demo\nNAME +TYPE +STATE/);
    expect(doc).toMatch(/\$ kubectl coffre create apiKey weather -n demo\napiKey \(input hidden\): ?\n/);
  });
});
