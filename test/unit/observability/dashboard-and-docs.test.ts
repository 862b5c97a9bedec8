import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { exposedSeriesNames, parsePromQL } from '../../support/promql.ts';

const root = join(import.meta.dirname, '../../..');

async function seriesNames(): Promise<Set<string>> {
  const metrics = createMetrics('test');
  const json = await metrics.registry.getMetricsAsJSON();
  return exposedSeriesNames(json.map((m) => ({ name: m.name, type: String(m.type) })));
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(
    readFileSync(join(root, 'charts/coffre/files/grafana-dashboard.json'), 'utf8'),
  ) as {
    panels: Panel[];
  };
  const queries = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => [panel.title, t.expr] as const),
  );

  it('has queries', () => {
    expect(queries.length).toBeGreaterThan(10);
  });

  it.each(queries)('%s: %s parses and names only metrics coffre exposes', async (_title, expr) => {
    const parsed = parsePromQL(expr);
    expect(parsed.errors).toBe(0);
    expect(parsed.metrics.length).toBeGreaterThan(0);
    const names = await seriesNames();
    for (const metric of parsed.metrics) expect(names, metric).toContain(metric);
  });
});

describe('the operations guide', () => {
  it('documents every coffre metric', async () => {
    const guide = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    const metrics = createMetrics('test');
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      if (metric.name.startsWith('coffre_process_') || metric.name.startsWith('coffre_nodejs_')) continue;
      expect(guide, metric.name).toContain(`\`${metric.name}\``);
    }
  });

  it('documents every condition reason', async () => {
    const guide = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    const { reasonCatalogue } = await import('../../../src/api/v1alpha1/conditions.ts');
    const quiet = new Set([
      'TokenValid',
      'CredentialsPublished',
      'ClientReady',
      'Reconciling',
      'Renewing',
      'CredentialsPresent',
      'TokenExpired',
      'NoToken',
      'DoesNotExpire',
      'RolloutRestartFailed',
    ]);
    for (const reason of Object.keys(reasonCatalogue)) {
      if (!quiet.has(reason)) expect(guide, reason).toContain(`\`${reason}\``);
    }
  });
});

describe('the parser used for these checks', () => {
  it('reports errors in broken expressions', () => {
    expect(parsePromQL('sum(rate(x[5m]) by').errors).toBeGreaterThan(0);
  });
});
