// Durations as people write them in flags and in specs: Go-style (`500ms`, `15s`, `1h30m`), the form
// the CRDs' DURATION_PATTERN accepts. One parser for the operator's flags and, through config, its docs.

const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

/** Milliseconds of a Go-style duration (`90s`, `1h30m`, `250ms`); undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(PART)) {
    if (match.index !== consumed) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    consumed += match[0].length;
  }
  return consumed === text.length && consumed > 0 && Number.isFinite(total) ? total : undefined;
}

/** The shortest exact spelling of ms that parseDuration reads back: 2m, 15s, 1h30m, 500ms. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return rest > 0 ? `${text}${rest}ms` : text;
}
