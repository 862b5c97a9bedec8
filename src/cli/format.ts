// Plain-text rendering shared by the commands: kubectl-style tables, ages and durations, and the
// json / yaml printers. No command formats on its own.
import { stringify } from 'yaml';
import { usageError } from './errors.ts';
import { visibleLength, type Output } from './io.ts';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export function parseOutputFormat<F extends OutputFormat>(
  value: string | undefined,
  allowed: readonly F[],
): F {
  const format = (value ?? allowed[0]) as F;
  if (!allowed.includes(format)) {
    throw usageError(`-o ${value ?? ''}: expected one of ${allowed.join(', ')}`);
  }
  return format;
}

/** Columns separated by three spaces, as kubectl prints them; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
      )
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

export function printStructured(output: Output, format: 'json' | 'yaml', value: unknown): void {
  output.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));
}

/** A duration as kubectl prints ages: 45s, 3m10s, 2h5m, 3d4h. */
export function shortDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60 === 0 ? '' : `${minutes % 60}m`}`;
  const days = Math.floor(hours / 24);
  return `${days}d${hours % 24 === 0 ? '' : `${hours % 24}h`}`;
}

/** `in 3m10s` or `2m ago` for a timestamp, `-` when absent. */
export function relative(iso: string | undefined, now: number): string {
  if (iso === undefined || iso === '') return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  return at >= now ? `in ${shortDuration(at - now)}` : `${shortDuration(now - at)} ago`;
}

/** The first words of a message, for a table cell. */
export function fewWords(message: string | undefined, max = 48): string {
  if (message === undefined || message === '') return '-';
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1).trimEnd()}…`;
}
