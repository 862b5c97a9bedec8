// The chart's PrometheusRule: rendered by Helm, every expression parses and names metrics coffre exposes.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { ensureHelm } from '../../../tools/controlplane/assets.ts';
import { exposedSeriesNames, parsePromQL } from '../../support/promql.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../../..');

interface Rule {
  alert: string;
  expr: string;
  annotations?: Record<string, string>;
}

describe('alert rules', () => {
  it('parse, name existing metrics and link a runbook', { timeout: 120_000 }, async () => {
    const helm = await ensureHelm();
    const { stdout } = await run(helm, [
      'template',
      'coffre',
      join(root, 'charts/coffre'),
      '--kube-version',
      '1.37.2',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
    ]);
    const rule = parseAllDocuments(stdout).map(
      (d) => d.toJS() as { spec: { groups: { rules: Rule[] }[] } },
    )[0];
    const rules = rule?.spec.groups.flatMap((g) => g.rules) ?? [];
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'CoffreNoLeader',
      'CoffreRateLimited',
      'CoffreRefreshFailureRate',
      'CoffreTokenExpired',
      'CoffreTokenExpiringSoon',
    ]);
    const metrics = await createMetrics('test').registry.getMetricsAsJSON();
    const names = exposedSeriesNames(metrics.map((m) => ({ name: m.name, type: String(m.type) })));
    for (const { alert, expr, annotations } of rules) {
      const parsed = parsePromQL(expr);
      expect(parsed.errors, `${alert}: ${expr}`).toBe(0);
      for (const metric of parsed.metrics) expect(names, `${alert} names ${metric}`).toContain(metric);
      expect(annotations?.runbook_url, alert).toContain('docs/operations.md#alerts');
    }
  });
});
