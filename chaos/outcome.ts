// What a scenario reports: figures, and checks. A check is a guarantee (it fails the run when broken) or
// a measure judged against the figure (reported, never failing the run: timings on a shared
// machine vary, guarantees do not).

export interface Check {
  name: string;
  /** What the guarantee or the figure is. */
  expected: string;
  measured: string;
  met: boolean;
  /** 'guarantee': a broken one fails the run. 'measure': reported only. */
  kind: 'guarantee' | 'measure';
}

export interface ScenarioOutcome {
  scenario: string;
  /** The fault and its size, for the table. */
  fault: string;
  seed: number;
  durationMs: number;
  figures: Record<string, unknown>;
  checks: Check[];
  /** Connections Ready over time, [seconds since the scenario started, count]. */
  curve: [number, number][];
  /** Moments of the faults on the curve, seconds since the scenario started. */
  marks: { at: number; label: string }[];
  /** Where to look (operator logs) when a check failed. */
  logs: string[];
}

export const guarantee = (
  name: string,
  expected: string,
  measured: string | number,
  met: boolean,
): Check => ({
  name,
  expected,
  measured: String(measured),
  met,
  kind: 'guarantee',
});

export const measure = (name: string, expected: string, measured: string | number, met: boolean): Check => ({
  name,
  expected,
  measured: String(measured),
  met,
  kind: 'measure',
});

export function list(names: readonly string[], max = 5): string {
  if (names.length === 0) return '0';
  return `${names.length} (${names.slice(0, max).join(', ')}${names.length > max ? ', ...' : ''})`;
}
