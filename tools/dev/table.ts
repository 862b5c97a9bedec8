// The live table `npm run dev` shows: each connection's type, Ready condition, expiry and refreshes.

export interface ConnectionRow {
  name: string;
  type: string;
  ready: string;
  reason: string;
  expiresAt?: string;
  lastRefreshTime?: string;
  nextRefreshTime?: string;
}

function relative(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds === 0) return 'now';
  return seconds > 0 ? `in ${seconds}s` : `${-seconds}s ago`;
}

export function renderTable(
  rows: readonly ConnectionRow[],
  now: number,
  refreshes: ReadonlyMap<string, number>,
): string {
  const header = ['NAME', 'TYPE', 'READY', 'STATUS', 'EXPIRES', 'LAST REFRESH', 'NEXT REFRESH', 'REFRESHES'];
  const lines = rows.map((row) => [
    row.name,
    row.type,
    row.ready,
    row.reason,
    relative(row.expiresAt, now),
    relative(row.lastRefreshTime, now),
    relative(row.nextRefreshTime, now),
    String(refreshes.get(row.name) ?? 0),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]?.length ?? 0)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), ...lines.map(format)].join('\n');
}
