import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Reason, reasonCatalogue } from '../../../src/api/v1alpha1/conditions.ts';
import { reasonHealth } from '../../../src/api/v1alpha1/health.ts';
import { OAuthErrorCatalogue, OAuthErrorCodes } from '../../../src/oauth/index.ts';
import { healthConditions } from '../../../src/reconcilers/health.ts';
import { HEALTH_TABLE_HEADER, healthStateCells } from '../../support/health-states.ts';
import { reasonForTokenError } from '../../../src/reconcilers/vault-connection/token-errors.ts';

const root = join(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The reasons of the table under "### Reasons" in docs/api.md. */
function documentedReasons(): string[] {
  const api = readFileSync(join(root, 'docs/api.md'), 'utf8');
  const section = api.slice(api.indexOf('### Reasons'), api.indexOf('## Labels and annotations'));
  return [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('the health table', () => {
  it('should call a token error Stalled exactly when the OAuth engine does not retry it', () => {
    for (const code of OAuthErrorCodes) {
      const health = reasonHealth[reasonForTokenError(code)];
      expect([code, health]).toEqual([code, OAuthErrorCatalogue[code].retryable ? 'transient' : 'stalled']);
    }
  });

  it.each([
    ['should say Reconciling for a retried failure', Reason.RateLimited, 'True', 'False'],
    ['should say Stalled for a failure that needs a person', Reason.InvalidClient, 'False', 'True'],
    ['should say neither for an empty connection', Reason.SecretNotFound, 'False', 'False'],
    ['should say neither for a ready connection', Reason.TokenValid, 'False', 'False'],
    ['should say Reconciling while coffre works', Reason.Renewing, 'True', 'False'],
  ])('%s', (_title, reason, reconciling, stalled) => {
    const ready = { type: 'Ready', status: 'False' as const, reason, message: 'm' };
    expect(healthConditions(ready).map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      `Reconciling=${reconciling}/${reason}`,
      `Stalled=${stalled}/${reason}`,
    ]);
  });

  it('should take the health of a renewal that failed from its failure, not from Ready', () => {
    const ready = { type: 'Ready', status: 'True' as const, reason: Reason.RenewalFailing, message: 'm' };
    const failure = { reason: Reason.ReauthorizationRequired, message: 'refresh token refused' };
    expect(healthConditions(ready, failure).map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Reconciling=False/ReauthorizationRequired',
      'Stalled=True/ReauthorizationRequired',
    ]);
  });
});

describe('the reasons docs/api.md documents', () => {
  it('should be the catalogue, each once', () => {
    expect(documentedReasons()).toEqual(Object.keys(reasonCatalogue));
  });

  it('should be the reasons the reconcilers can write, and no other', () => {
    const emitted = new Set<string>();
    for (const file of sources(join(root, 'src/reconcilers'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bReason\.([A-Za-z]+)\b/g))
        emitted.add(m[1] ?? '');
    }
    expect([...emitted].sort()).toEqual([...documentedReasons()].sort());
  });
});

describe('docs/gitops.md', () => {
  const gitops = readFileSync(join(root, 'docs/gitops.md'), 'utf8');

  it('should show the states table the integration test checks', () => {
    const start = gitops.indexOf('<!-- health-states');
    const table = gitops.slice(start, gitops.indexOf('<!-- /health-states -->'));
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('|') && !line.startsWith('| --'))
      .map((line) =>
        line
          .slice(1, -1)
          .split('|')
          .map((cell) => cell.trim()),
      );
    expect(rows).toEqual([HEALTH_TABLE_HEADER, ...healthStateCells()]);
  });

  it("should show the chart's Argo CD health check as it is", () => {
    const script = readFileSync(join(root, 'charts/coffre/files/argocd-health.lua'), 'utf8');
    expect(gitops).toContain(`\`\`\`lua\n${script}\`\`\``);
  });
});
