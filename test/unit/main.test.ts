// The composition root refuses a start that cannot work in one line on stderr, naming the flag, with
// exit code 2 and no stack trace. Each case spawns `node src/main.ts` as `npm start` does; none gets as
// far as a cluster.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const node = join(root, 'node_modules/.bin/node');

function start(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(node, ['src/main.ts', ...args], {
    cwd: root,
    // No kubeconfig of the developer's may be reached: a case that got past the flags would fail here.
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: '/nonexistent', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each case starts a Node process: seconds on a loaded machine, beyond the unit suite's 5 s default.
describe('node src/main.ts with flags it cannot start with', { timeout: 30_000 }, () => {
  it.each<[string, string[], Record<string, string>, string]>([
    [
      'lease timings the runtime refuses',
      ['--lease-retry-period=9s', '--lease-renew-deadline=10s'],
      {},
      '--lease-renew-deadline=10s must be greater than 1.2 × --lease-retry-period=9s',
    ],
    ['an unknown flag', ['--leader-election=false'], {}, 'unknown flag --leader-election'],
    ['a malformed duration', ['--lease-duration=15'], {}, '--lease-duration=15: expected a duration'],
    ['no workers', ['--workers=0'], {}, '--workers=0 must be an integer from 1 to 256'],
    ['a flag without its value', ['--workers'], {}, '--workers needs a value'],
    ['a bad environment variable', [], { COFFRE_LOG_LEVEL: 'loud' }, 'COFFRE_LOG_LEVEL=loud (--log-level)'],
    ['a kubeconfig that does not exist', ['--kubeconfig=/nonexistent/kubeconfig'], {}, '--kubeconfig'],
  ])('should refuse %s: one line naming it, exit code 2, no stack trace', (_title, args, env, names) => {
    const { code, stdout, stderr } = start(args, env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^coffre: /);
    expect(lines[0]).toContain(names);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('Error:');
  });

  it('should start past the flags when they are fine (and stop at the missing kubeconfig)', () => {
    const { code, stderr } = start(['--lease-retry-period=8s', '--workers=2']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^coffre: cannot load a kubeconfig/);
  });
});
