// manifests/install.yaml (the chart rendered with default values, for `kubectl apply --server-side`):
// up to date with the chart, and accepted by the real API server object by object (server-side dry-run,
// strict field validation, not one warning in its restricted namespace).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { INSTALL_PATH, renderInstallYaml } from '../../../scripts/generate-install.ts';
import { parseManifests } from '../../support/chart.ts';
import { helmPath } from '../../support/cluster.ts';
import { kube } from '../../support/kube.ts';
import { applyProblems } from '../../support/server-side-apply.ts';

describe('manifests/install.yaml', () => {
  it('is what scripts/generate-install.ts renders from the chart today', async () => {
    const rendered = await renderInstallYaml(helmPath());
    const committed = await readFile(INSTALL_PATH, 'utf8');
    expect(committed, 'manifests/install.yaml is stale: run `node scripts/generate-install.ts`').toBe(
      rendered,
    );
  });

  it('applies with kubectl apply --server-side semantics (dry-run): every object accepted, no warning', async () => {
    const objects = parseManifests(await readFile(INSTALL_PATH, 'utf8'));
    expect(objects[0]?.kind).toBe('Namespace');
    const problems = await applyProblems(kube(), objects, { dryRun: true, fieldManager: 'kubectl' });
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThanOrEqual(14);
  });
});
