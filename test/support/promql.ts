// PromQL checks with Prometheus's own grammar (@prometheus-io/lezer-promql): does an expression parse,
// and which metrics does it name.
import { parser } from '@prometheus-io/lezer-promql';

export interface ParsedQuery {
  errors: number;
  metrics: string[];
}

export function parsePromQL(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  let errors = 0;
  const metrics: string[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors++;
      if (node.type.name === 'Identifier' && node.node.parent?.type.name === 'VectorSelector') {
        metrics.push(expr.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics };
}

/** The series names a registry exposes, with the suffixes histograms and summaries add. */
export function exposedSeriesNames(metrics: { name: string; type: string }[]): Set<string> {
  const names = new Set<string>();
  for (const metric of metrics) {
    names.add(metric.name);
    if (metric.type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (metric.type === 'summary') for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}
