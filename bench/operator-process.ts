// The operator under test, as a child process (`node src/main.ts ...`), so that its memory and CPU are
// its own: started with the production entry point and flags, read through its /metrics and /readyz,
// its peak RSS from /proc, its start-up milestones from its JSON log.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../tools/controlplane/controlplane.ts';
import { startProcess, type ManagedProcess } from '../tools/controlplane/processes.ts';
import type { BenchContext } from './context.ts';
import { parseMetrics, type Sample } from './prom.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
/** USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export interface OperatorOptions {
  kubeconfigPath: string;
  /** CA of the local OAuth server. */
  caFile: string;
  workers: number;
  /** Flags of the scenario, e.g. the per-host token budget. */
  flags?: readonly string[];
  /** Flags from the command line, for every run. */
  extraFlags?: readonly string[];
  /** Directory for the log (and CPU profile). */
  dir: string;
  /** Name of the log file, without extension. */
  name: string;
  /** Write a V8 CPU profile (node --cpu-prof) into `dir` on exit. */
  cpuProfile?: boolean;
  /** More flags for node itself (before the script), e.g. --max-old-space-size=128. */
  nodeFlags?: readonly string[];
  /** The entry point, default src/main.ts (the image runs a compiled dist/main.js). */
  main?: string;
  /** Let heapSnapshot() write V8 heap snapshots into `dir` (node --heapsnapshot-signal). */
  heapSnapshots?: boolean;
}

/** Memory of the process from /proc/PID/status, bytes. */
export interface ProcessMemory {
  /** VmRSS: resident, including the mapped node binary and shared libraries. */
  rss: number;
  /** VmHWM: the peak of rss. */
  peakRss: number;
  /** RssAnon: private (anonymous) resident memory, the part a container's limit really pays for. */
  rssAnon: number;
}

export interface OperatorProcess {
  readonly pid: number;
  /** Date.now() just before spawning. */
  readonly spawnedAt: number;
  readonly logFile: string;
  readonly metricsUrl: string;
  waitReady(timeoutMs?: number): Promise<number>;
  metrics(): Promise<Sample[]>;
  /** Resident, peak resident and private memory of the process (from /proc). */
  memory(): Promise<ProcessMemory>;
  /** CPU seconds the process has used (user + system, from /proc/PID/stat). */
  cpuSeconds(): Promise<number>;
  /** Writes a V8 heap snapshot (needs heapSnapshots) and resolves with its path once complete. */
  heapSnapshot(): Promise<string>;
  /** When the log first shows a line with this message (epoch ms), if it does. */
  logTime(message: string): Promise<number | undefined>;
  /** kill -9, for chaos runs: no shutdown, no lease release; resolves once it has exited. */
  kill(): Promise<void>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** What every scenario starts the operator with: the run's settings, on one cluster. */
export function operatorOptions(
  context: BenchContext,
  kubeconfigPath: string,
  caFile: string,
  flags: readonly string[] = [],
): Omit<OperatorOptions, 'name'> {
  return {
    kubeconfigPath,
    caFile,
    workers: context.workers,
    flags,
    extraFlags: context.extraFlags,
    nodeFlags: context.nodeFlags,
    dir: context.dir,
    cpuProfile: context.cpuProfile,
    heapSnapshots: context.heapSnapshots,
    ...(context.main === undefined ? {} : { main: context.main }),
  };
}

export async function startOperator(options: OperatorOptions): Promise<OperatorProcess> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const logFile = join(options.dir, `${options.name}.log`);
  const nodeFlags = [
    ...(options.cpuProfile === true ? ['--cpu-prof', `--cpu-prof-dir=${options.dir}`] : []),
    ...(options.heapSnapshots === true
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.dir}`]
      : []),
    ...(options.nodeFlags ?? []),
  ];
  const args = [
    ...nodeFlags,
    options.main ?? MAIN,
    `--kubeconfig=${options.kubeconfigPath}`,
    '--leader-elect=false',
    `--metrics-port=${metricsPort}`,
    '--metrics-host=127.0.0.1',
    `--health-port=${healthPort}`,
    '--health-host=127.0.0.1',
    '--allowed-cidrs=127.0.0.1/32',
    `--ca-file=${options.caFile}`,
    `--workers=${options.workers}`,
    ...(options.flags ?? []),
    ...(options.extraFlags ?? []),
  ];
  const spawnedAt = Date.now();
  const child: ManagedProcess = startProcess('coffre', process.execPath, args, logFile);
  const pid = child.child.pid ?? 0;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

  return {
    pid,
    spawnedAt,
    logFile,
    metricsUrl,
    async waitReady(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.child.exitCode !== null) {
          const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-10).join('\n');
          throw new Error(`the operator exited (${child.child.exitCode}):\n${tail}`);
        }
        const ok = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return Date.now();
        if (Date.now() > deadline) throw new Error(`the operator was not ready after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async metrics() {
      // On a loaded machine a kept-alive connection may have been closed under us: try thrice.
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(metricsUrl);
          return parseMetrics(await response.text());
        } catch (error) {
          if (attempt === 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    },
    async memory() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rss: kb('VmRSS') * 1024, peakRss: kb('VmHWM') * 1024, rssAnon: kb('RssAnon') * 1024 };
    },
    async cpuSeconds() {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    async heapSnapshot() {
      if (options.heapSnapshots !== true) throw new Error('started without heapSnapshots');
      const mine = async () =>
        new Set(
          (await readdir(options.dir)).filter((f) => f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot')),
        );
      const before = await mine();
      process.kill(pid, 'SIGUSR2');
      const deadline = Date.now() + 10 * 60_000;
      for (;;) {
        const fresh = [...(await mine())].find((f) => !before.has(f));
        // The snapshot is written on the main thread: once /metrics answers again, the file is complete.
        // (A keep-alive connection the blocked server let expire fails once: ask again.)
        if (fresh !== undefined) {
          const answered = await fetch(metricsUrl).then(
            async (r) => (await r.text()) !== '',
            () => false,
          );
          if (answered) return join(options.dir, fresh);
        }
        if (Date.now() > deadline) throw new Error('no heap snapshot after 10 minutes');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async logTime(message) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.includes(message)) continue;
        try {
          const entry = JSON.parse(line) as { time?: number | string; msg?: string };
          if (entry.msg !== message) continue;
          const time = typeof entry.time === 'string' ? Date.parse(entry.time) : entry.time;
          if (time !== undefined && !Number.isNaN(time)) return time;
        } catch {
          // Not a JSON line (e.g. a Node warning).
        }
      }
      return undefined;
    },
    async kill() {
      if (child.child.exitCode !== null || child.child.signalCode !== null) return;
      child.child.kill('SIGKILL');
      await child.exited;
    },
    alive: () => child.child.exitCode === null && child.child.signalCode === null,
    exited: child.exited,
    stop: () => child.stop(30_000),
  };
}
