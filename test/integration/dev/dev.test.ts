// `npm run dev`, headless, as a new user would run it: the demo converges (Auth0-style connection
// Ready with tokens refreshing, the empty one Empty, the API key Ready), the empty one turns Ready when
// its Secret appears, and Ctrl-C leaves no process behind.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { createKubeHttp } from '../../../src/controller/kube-http.ts';
import { loadKubeConfig } from '../../../tools/controlplane/controlplane.ts';

const root = join(import.meta.dirname, '../../..');

/** Command lines of every running process that mentions `text`. */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text) && Number(pid) !== process.pid)
        found.push(`${pid}: ${cmdline.slice(0, 200)}`);
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

it('runs the demo headlessly and leaves nothing running after Ctrl-C', { timeout: 180_000 }, async () => {
  const child = spawn(process.execPath, [join(root, 'tools/dev/main.ts'), '--plain', '--token-ttl=4'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  try {
    await expect.poll(() => output, { timeout: 150_000, interval: 250 }).toContain('demo converged');
    const kubeconfigPath = /^KUBECONFIG=(.+)$/m.exec(output)?.[1] ?? '';
    expect(kubeconfigPath).not.toBe('');
    // Tokens visibly refresh: the Auth0-style connection's refresh count climbs.
    await expect
      .poll(
        () =>
          Number(
            /auth0-management=True\/TokenValid\/refreshes:(\d+)/g.exec(
              output
                .split('\n')
                .filter((l) => l.includes('refreshes:'))
                .pop() ?? '',
            )?.[1] ?? 0,
          ),
        {
          timeout: 30_000,
          interval: 250,
        },
      )
      .toBeGreaterThanOrEqual(3);
    const http = createKubeHttp(loadKubeConfig({ kubeconfigPath }));
    await http.json('/api/v1/namespaces/demo/secrets', {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'crm' },
        stringData: { apiKey: 'hello' },
      }),
    });
    await expect
      .poll(() => output, { timeout: 20_000, interval: 250 })
      .toContain('crm=True/CredentialsPublished');

    const devDir = dirname(dirname(kubeconfigPath));
    expect(processesMentioning(devDir).length).toBeGreaterThanOrEqual(4); // etcd, apiserver, kcm, coffre
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('nothing is left running');
    expect(processesMentioning(devDir)).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
});
