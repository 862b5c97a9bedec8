// The bench's pure parts: reading Prometheus text, percentiles and curves, judging the targets, the
// chart. The scenarios themselves run against real servers in `npm run bench`.
import { describe, expect, it } from 'vitest';
import { writesOf } from '../../../bench/apiserver-metrics.ts';
import { renderChart } from '../../../bench/chart.ts';
import { cumulativeCurve } from '../../../bench/context.ts';
import { delta, parseMetrics, sum, sumBy } from '../../../bench/prom.ts';
import { floorRatio, judge, perConnectionCost, type BenchResults } from '../../../bench/results.ts';
import { perConnection, summarise } from '../../../bench/heap-snapshot.ts';
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
  const burst = (n: number, totalMs: number, writes = 2 * n, cpu = n / 500) =>
    ({
      n,
      latencyMs: 0,
      budget: 'lifted',
      totalMs,
      cost: {
        apiServerWritesTotal: writes,
        apiServerReads: { 'GET secrets': n },
        operatorCpuSeconds: cpu,
      },
    }) as unknown as BenchResults['burst'][number];
  const floor = (n: number, totalMs: number) =>
    ({ n, pinAgent: true, totalMs }) as BenchResults['floor'][number];
  const judged = (results: Pick<BenchResults, 'burst' | 'floor'>) =>
    judge(results as unknown as Omit<BenchResults, 'targets'>);

  it('compares the median burst with the median floor at each size, and counts writes and CPU per connection', () => {
    const results = {
      // Three repetitions at 1,000: medians 6,000 ms against 5,000 ms.
      burst: [burst(1000, 9000), burst(1000, 6000, 3000, 5), burst(1000, 5500)],
      floor: [floor(1000, 4000), floor(1000, 5000), floor(1000, 7000)],
    };
    expect(floorRatio(results, 1000)).toBe(1.2);
    expect(perConnectionCost(results.burst[1] as BenchResults['burst'][number])).toEqual({
      writes: 3,
      reads: 1,
      cpuPer1000: 5,
    });
    expect(judged(results)).toEqual([
      {
        name: 'burst total / floor total at N = 1000 (median of 3)',
        target: '<= 1.3x',
        value: '1.2x',
        met: true,
      },
      { name: 'burst of 1000: API writes per new connection', target: '<= 2', value: '2', met: true },
      { name: 'burst of 1000: operator CPU per 1,000 Ready', target: '<= 4 s', value: '2 s', met: true },
    ]);
    const slow = judged({ burst: [burst(1000, 8000, 3000, 6)], floor: [floor(1000, 5000)] });
    expect(slow.map((t) => t.met)).toEqual([false, false, false]);
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

describe('heap snapshot summary', () => {
  // Node fields as V8 writes them: type, name, id, self_size, edge_count, trace_node_id, detachedness.
  const snapshot = (connections: number) => {
    const nodes: number[] = [];
    const add = (type: number, name: number, size: number) => nodes.push(type, name, 1, size, 0, 0, 0);
    add(9, 0, 100); // (synthetic) root
    for (let i = 0; i < connections; i++) {
      add(3, 1, 56); // an Object
      add(2, 2, 40); // a string
      add(3, 3, 24); // a Map
    }
    return {
      snapshot: {
        meta: {
          node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
          node_types: [
            [
              'hidden',
              'array',
              'string',
              'object',
              'code',
              'closure',
              'regexp',
              'number',
              'native',
              'synthetic',
            ],
          ] as [string[]],
        },
      },
      nodes,
      strings: ['(root)', 'Object', 'the secret value', 'Map'],
    };
  };

  it('groups self sizes by constructor, never by string contents, and divides growth per connection', () => {
    const small = summarise(snapshot(10));
    expect(small.totalBytes).toBe(100 + 10 * 120);
    expect(small.groups.map((g) => g.name)).toEqual(['Object', '(string)', 'Map', '(system)']);
    expect(JSON.stringify(small)).not.toContain('the secret value');
    const per = perConnection(
      { connections: 10, heap: small },
      { connections: 110, heap: summarise(snapshot(110)) },
    );
    expect(per.totalBytes).toBe(120);
    expect(per.groups.slice(0, 3)).toEqual([
      { name: 'Object', count: 1, bytes: 56 },
      { name: '(string)', count: 1, bytes: 40 },
      { name: 'Map', count: 1, bytes: 24 },
    ]);
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
