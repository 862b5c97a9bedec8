// Fills the generated parts of docs/kubectl-coffre.md from their one source: each command's flags table
// from its declaration (src/cli/), the recorded session from docs/kubectl-coffre-session.txt (written by
// scripts/cli/record-session.ts from a real run). A unit test fails when the document is stale.
//
//   node scripts/cli/generate-docs.ts
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { helpFlag, type Command, type FlagSpec } from '../../src/cli/command.ts';
import { commands } from '../../src/cli/main.ts';

const root = resolve(import.meta.dirname, '../..');
export const DOC = resolve(root, 'docs/kubectl-coffre.md');
export const SESSION = resolve(root, 'docs/kubectl-coffre-session.txt');

function flagCell(name: string, spec: FlagSpec): string {
  const long =
    spec.value === undefined
      ? `--${name}`
      : name === 'dry-run'
        ? `--${name}=${spec.value}`
        : `--${name} ${spec.value}`;
  return spec.short === undefined ? `\`${long}\`` : `\`-${spec.short}\`, \`${long}\``;
}

export function flagsTable(command: Command): string {
  const rows = Object.entries({ ...command.flags, ...helpFlag } as Record<string, FlagSpec>).map(
    ([name, spec]) => [flagCell(name, spec), spec.description.replaceAll('|', '\\|')],
  );
  const widths = [0, 1].map((i) => Math.max(i === 0 ? 4 : 4, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(['Flag', 'What']), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function replaceBetween(text: string, start: string, end: string, body: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`docs/kubectl-coffre.md has no ${start} ... ${end}`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

export function renderDoc(doc: string, session: string): string {
  let text = doc;
  for (const command of commands) {
    text = replaceBetween(text, `<!-- flags:${command.name} -->`, '<!-- /flags -->', flagsTable(command));
  }
  return replaceBetween(
    text,
    '<!-- session -->',
    '<!-- /session -->',
    `\`\`\`console\n${session.trimEnd()}\n\`\`\``,
  );
}

/** The document as it should be: generated parts filled in, formatted as `npm run format` would. */
export async function expectedDoc(): Promise<string> {
  const [doc, session, options] = await Promise.all([
    readFile(DOC, 'utf8'),
    readFile(SESSION, 'utf8'),
    resolveConfig(DOC),
  ]);
  return format(renderDoc(doc, session), { ...options, filepath: DOC });
}

if (import.meta.main) {
  await writeFile(DOC, await expectedDoc());
  console.log('wrote docs/kubectl-coffre.md');
}
