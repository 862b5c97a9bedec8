// A small SVG line chart, written by hand (no browser, no library): one panel per series group, with
// axes, ticks and a legend. Used for "connections Ready over time" per burst size.

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: readonly (readonly [number, number])[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
}

const WIDTH = 420;
const HEIGHT = 300;
const MARGIN = { left: 60, right: 16, top: 34, bottom: 46 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** 0, and "nice" steps (1, 2, 5 × 10^k) up to at least max. */
function ticks(max: number, count = 5): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const result: number[] = [];
  for (let value = 0; value < max + step; value += step) {
    result.push(Math.round(value * 1e6) / 1e6);
    if (value >= max) break;
  }
  return result;
}

function label(value: number): string {
  if (value >= 1000 && value % 1000 === 0) return `${value / 1000}k`;
  return String(value);
}

function panel(p: Panel, offsetX: number, offsetY: number): string {
  const all = p.series.flatMap((s) => s.points);
  const xTicks = ticks(Math.max(...all.map(([x]) => x), 1));
  const yTicks = ticks(Math.max(...all.map(([, y]) => y), 1));
  const xMax = xTicks[xTicks.length - 1] ?? 1;
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const out: string[] = [`<g transform="translate(${offsetX},${offsetY})">`];
  out.push(
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(p.title)}</text>`,
  );
  for (const t of xTicks) {
    out.push(
      `<line x1="${sx(t)}" y1="${MARGIN.top}" x2="${sx(t)}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${sx(t)}" y="${MARGIN.top + plotH + 14}" text-anchor="middle" font-size="10">${label(t)}</text>`,
    );
  }
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${sy(t)}" x2="${MARGIN.left + plotW}" y2="${sy(t)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 5}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${label(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" font-size="11">${escape(p.xLabel)}</text>`,
    `<text transform="translate(14,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escape(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    const ly = MARGIN.top + 8 + i * 14;
    const lx = MARGIN.left + plotW - 150;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 16}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5,3"' : ''}/>`,
      `<text x="${lx + 20}" y="${ly + 3}" font-size="10">${escape(s.label)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/** Panels side by side (wrapping every `columns`), with a title and a footnote. */
export function renderChart(title: string, footnote: string, panels: readonly Panel[], columns = 3): string {
  const cols = Math.min(columns, Math.max(1, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const width = cols * WIDTH;
  const height = rows * HEIGHT + 56;
  const body = panels.map((p, i) => panel(p, (i % cols) * WIDTH, 30 + Math.floor(i / cols) * HEIGHT));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...body,
    `<text x="10" y="${height - 10}" font-size="10" fill="#555">${escape(footnote)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
