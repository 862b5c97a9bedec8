// The table npm run chaos prints (and docs/reliability.md shows): one row per check of each fault.
import { seconds } from '../bench/stats.ts';
import type { ScenarioOutcome } from './outcome.ts';

export interface ChaosResults {
  startedAt: string;
  command: string;
  seed: number;
  durationMs: number;
  machine: { cpu: string; cores: number; node: string; kubernetes: string };
  outcomes: ScenarioOutcome[];
  brokenGuarantees: string[];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatChaosReport(results: ChaosResults): string {
  const m = results.machine;
  const rows: string[][] = [];
  for (const outcome of results.outcomes) {
    outcome.checks.forEach((check, i) => {
      rows.push([
        i === 0 ? outcome.fault : '',
        check.name,
        check.expected,
        check.measured.length > 70 ? `${check.measured.slice(0, 67)}...` : check.measured,
        check.kind === 'guarantee' ? (check.met ? 'yes' : 'BROKEN') : check.met ? 'yes' : 'no (measure)',
      ]);
    });
  }
  return [
    `coffre chaos, ${results.startedAt}: ${m.cpu}, ${m.cores} cores, Node ${m.node}, Kubernetes ${m.kubernetes}`,
    `seed ${results.seed}; command: ${results.command}   (ran ${seconds(results.durationMs)})`,
    '',
    table(['fault', 'check', 'expected', 'measured', 'held'], rows),
    '',
    results.brokenGuarantees.length === 0
      ? 'every guarantee held'
      : `BROKEN guarantees (${results.brokenGuarantees.length}): ${results.brokenGuarantees.join('; ')}`,
  ].join('\n');
}
