// The troubleshooting table `check` and `describe` print is docs/operations.md's, row for row.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/v1alpha1/conditions.ts';
import { adviceFor, troubleshooting, troubleshootingMarkdownRow } from '../../../src/cli/troubleshooting.ts';

function documentedRows(): [string, string][] {
  const text = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const section = text.split('## Troubleshooting by reason')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Reason') && !line.startsWith('| ---'))
    .map((line) => {
      const cells = line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => cell.trim());
      return [cells[0] ?? '', cells[1] ?? ''];
    });
}

describe('troubleshooting by reason', () => {
  it('is the table of docs/operations.md, in its order', () => {
    const rows = documentedRows();
    expect(rows.length).toBeGreaterThan(10);
    expect(troubleshooting.map(troubleshootingMarkdownRow)).toEqual(rows);
  });

  it('names only reasons of the API catalogue, each once', () => {
    const reasons = troubleshooting.flatMap((row) => row.reasons);
    expect(new Set(reasons).size).toBe(reasons.length);
    for (const reason of reasons) expect(Object.values(Reason)).toContain(reason);
  });

  it.each([
    ['SecretNotFound', /^The connection is Empty: create the Secret/],
    ['EndpointRefused', /add its range to --allowed-cidrs \(operator\.allowedCIDRs\)\.$/],
    ['TokenExpired', /^See the Ready condition for the cause\.$/],
  ])('advises on %s without markdown', (reason, action) => {
    expect(adviceFor(reason)?.action).toMatch(action);
  });

  it('has no advice for a reason coffre never writes', () => {
    expect(adviceFor('NoSuchReason')).toBeUndefined();
  });
});
