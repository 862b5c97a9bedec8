// The bench's pure parts: reading Prometheus text, percentiles and curves, judging the targets, the
// chart. The scenarios themselves run against real servers in `npm run bench`.
import { describe, expect, it } from 'vitest';
import { writesOf } from '../../../bench/apiserver-metrics.ts';
import { renderChart } from '../../../bench/chart.ts';
import { cumulativeCurve } from '../../../bench/context.ts';
import { delta, parseMetrics, sum, sumBy } from '../../../bench/prom.ts';
import { floorRatio, judge, type BenchResults } from '../../../bench/results.ts';
import { percentile } from '../../../bench/stats.ts';

describe('parseMetrics', () => {
  const text = [
    '# HELP apiserver_request_total Counter of apiserver requests.',
    '# TYPE apiserver_request_total counter',
    'apiserver_request_total{code="201",resource="secrets",subresource="",verb="POST"} 12',
    'apiserver_request_total{code="200",resource="vaultconnections",subresource="status",verb="PATCH"} 7',
    'apiserver_request_total{code="409",resource="vaultconnections",subresource="status",verb="PATCH"} 1',
    'apiserver_request_total{code="200",resource="secrets",subresource="",verb="LIST"} 3',
    'coffre_build_info{version="0.1.0",note="a \\"quoted\\" \\\\ value"} 1',
    'process_cpu_seconds_total 1.5e+00',
  ].join('\n');

  it('reads samples with labels, escapes and exponents', () => {
    const samples = parseMetrics(text);
    expect(samples).toHaveLength(6);
    expect(samples[4]?.labels.note).toBe('a "quoted" \\ value');
    expect(sum(samples, 'process_cpu_seconds_total')).toBe(1.5);
    expect(sum(samples, 'apiserver_request_total', { verb: 'PATCH' })).toBe(8);
  });

  it('groups, subtracts and keeps only writes of the named resources', () => {
    const before = sumBy(parseMetrics(text), 'apiserver_request_total', ['verb', 'resource']);
    const after = new Map(before);
    after.set('POST secrets', 20);
    after.set('LIST secrets', 5);
    const change = delta(before, after);
    expect([...change]).toEqual([
      ['POST secrets', 8],
      ['LIST secrets', 2],
    ]);
    expect([...writesOf(change, ['secrets'])]).toEqual([['POST secrets', 8]]);
    expect([...writesOf(change, ['events'])]).toEqual([]);
  });
});

describe('percentiles and curves', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('builds a cumulative curve that ends at the total', () => {
    const start = 1_000_000;
    const curve = cumulativeCurve(start, [start + 2500, start + 500, start + 1500], 120);
    expect(curve).toEqual([
      [0, 0],
      [0.5, 1],
      [1.5, 2],
      [2.5, 3],
    ]);
    const long = cumulativeCurve(
      start,
      Array.from({ length: 1000 }, (_, i) => start + i),
      10,
    );
    expect(long.length).toBeLessThanOrEqual(12);
    expect(long.at(-1)).toEqual([1, 1000]);
  });
});

describe('judge', () => {
  const burst = (n: number, totalMs: number) =>
    ({ n, latencyMs: 0, budget: 'lifted', totalMs }) as BenchResults['burst'][number];
  const floor = (n: number, totalMs: number) =>
    ({ n, pinAgent: true, totalMs }) as BenchResults['floor'][number];

  it('compares coffre with the floor at N = 1000', () => {
    const results = {
      burst: [burst(100, 900), burst(1000, 6000)],
      floor: [floor(100, 1000), floor(1000, 5000)],
    };
    expect(floorRatio(results, 1000)).toBe(1.2);
    const targets = judge({ ...results } as unknown as Omit<BenchResults, 'targets'>);
    expect(targets).toEqual([
      { name: 'burst total / floor total at N = 1000', target: '<= 1.5x', value: '1.2x', met: true },
    ]);
    const slow = judge({ burst: [burst(1000, 8000)], floor: [floor(1000, 5000)] } as unknown as Omit<
      BenchResults,
      'targets'
    >);
    expect(slow[0]?.met).toBe(false);
  });

  it('misses the steady-state target on a third write per refresh, or on no refresh at all', () => {
    const steady = (writesPerRefresh: number, refreshes: number) =>
      judge({
        burst: [],
        floor: [],
        steady: { writesPerRefresh, refreshes, expiredMoments: 0 },
      } as unknown as Omit<BenchResults, 'targets'>);
    expect(steady(2, 100)[0]?.met).toBe(true);
    expect(steady(2.4, 100)[0]?.met).toBe(false);
    expect(steady(0, 0)[0]?.met).toBe(false);
  });
});

describe('renderChart', () => {
  it('draws one panel per burst size with escaped labels', () => {
    const svg = renderChart('Ready over time', 'machine <x> & y', [
      {
        title: '100 connections',
        xLabel: 's',
        yLabel: 'Ready',
        series: [
          {
            label: 'coffre',
            color: '#1f77b4',
            points: [
              [0, 0],
              [1, 50],
              [2, 100],
            ],
          },
          {
            label: 'floor',
            color: '#555',
            dashed: true,
            points: [
              [0, 0],
              [1.5, 100],
            ],
          },
        ],
      },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('machine &lt;x&gt; &amp; y');
    expect(svg).toContain('100 connections');
    expect(svg.match(/<polyline/g)?.length ?? svg.match(/<path/g)?.length).toBe(2);
    expect(svg).not.toContain('NaN');
  });
});
