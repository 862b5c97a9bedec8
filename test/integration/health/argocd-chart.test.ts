// The chart's Argo CD health check: rendered only on request, as argocd-cm keys holding the script
// exactly, and run as Argo CD runs it (tools/health-check) the script answers what docs/gitops.md says.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { helmPath } from '../../support/cluster.ts';
import { lintChart, renderChart } from '../../support/chart.ts';

const SCRIPT = join(import.meta.dirname, '../../../charts/coffre/files/argocd-health.lua');
const KEYS = [
  'resource.customizations.health.coffre.dev_VaultConnection',
  'resource.customizations.health.coffre.dev_OAuthClient',
];

describe('the Argo CD health check in the chart', () => {
  it('should render nothing by default, so that a release never owns argocd-cm', async () => {
    const objects = await renderChart(helmPath());
    expect(objects.filter((o) => o.metadata.name === 'argocd-cm')).toEqual([]);
  });

  it('should render both argocd-cm keys with the script, in the namespace asked for', async () => {
    const values = { argocd: { healthCheck: { render: true, namespace: 'gitops' } } };
    expect((await lintChart(helmPath(), { values })).code).toBe(0);
    const [cm, ...others] = (await renderChart(helmPath(), { values })).filter(
      (o) => o.metadata.name === 'argocd-cm',
    );
    expect(others).toEqual([]);
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { namespace: 'gitops' } });
    const data = (cm as unknown as { data: Record<string, string> }).data;
    const script = await readFile(SCRIPT, 'utf8');
    expect(Object.keys(data).sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) expect(data[key]).toBe(script);

    // What Argo CD would run: the rendered key, not the file.
    const dir = await mkdtemp(join(tmpdir(), 'coffre-argocd-'));
    await writeFile(join(dir, 'health.lua'), data[KEYS[0] ?? ''] ?? '');
    const out = execFileSync(inject('healthCheck'), ['argocd', join(dir, 'health.lua')], {
      input: JSON.stringify([{ metadata: { name: 'x', generation: 1 } }]),
    });
    expect(JSON.parse(out.toString())).toEqual([
      { status: 'Progressing', message: 'Waiting for coffre to observe generation 1' },
    ]);
  });
});
