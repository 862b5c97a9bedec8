// The chart's Argo CD health check against its health_test.yaml, as Argo CD tests its own
// resource_customizations: each recorded object (testdata/, from real objects of every state) run in
// the Lua VM Argo CD embeds must give the recorded status and message.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { healthStates } from '../../support/health-states.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/argocd-health');
const LUA = join(import.meta.dirname, '../../../charts/coffre/files/argocd-health.lua');

interface HealthTest {
  healthStatus: { status: string; message: string };
  inputPath: string;
}

const { tests } = parse(readFileSync(join(FIXTURES, 'health_test.yaml'), 'utf8')) as { tests: HealthTest[] };

describe('argocd-health.lua, health_test.yaml', () => {
  it('should hold one recorded object per state of docs/gitops.md', () => {
    expect(tests.map((t) => t.healthStatus.status)).toEqual(healthStates.map((s) => s.argocd));
  });

  it.each(tests.map((t) => [t.inputPath, t] as const))('%s', (_path, test) => {
    const object: unknown = parse(readFileSync(join(FIXTURES, test.inputPath), 'utf8'));
    const out = execFileSync(inject('healthCheck'), ['argocd', LUA], { input: JSON.stringify([object]) });
    expect(JSON.parse(out.toString())).toEqual([test.healthStatus]);
  });
});
