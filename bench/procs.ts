// CPU time of processes from /proc (Linux): the control plane's etcd and kube-apiserver, found by the
// control plane's directory in their command line, so a scenario can say what it cost the server too.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** Pids of processes whose command line contains `marker`, by the basename of their executable. */
export async function findProcesses(marker: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(marker)) continue;
    const argv = cmdline.split('\0');
    // Under `setpriv ... -- command args`, the command follows `--`.
    const dashes = argv.indexOf('--');
    const executable = dashes >= 0 ? argv[dashes + 1] : argv[0];
    const name = (executable ?? '').split('/').pop() ?? '';
    if (name !== '' && name !== 'setpriv') found.set(name, Number(entry));
  }
  return found;
}

/** User + system CPU seconds of a process so far; 0 if it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND;
}

export async function cpuOf(pids: ReadonlyMap<string, number>): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const [name, pid] of pids) result[name] = await cpuSeconds(pid);
  return result;
}

/** Waits until the processes together use less than `share` of one core over `windowMs` (max `timeoutMs`). */
export async function waitQuiet(
  pids: ReadonlyMap<string, number>,
  share = 0.1,
  windowMs = 1000,
  timeoutMs = 20_000,
): Promise<number> {
  const started = Date.now();
  let before = Object.values(await cpuOf(pids)).reduce((a, b) => a + b, 0);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = Object.values(await cpuOf(pids)).reduce((a, b) => a + b, 0);
    if (now - before < (share * windowMs) / 1000 || Date.now() - started > timeoutMs) {
      return Date.now() - started;
    }
    before = now;
  }
}
