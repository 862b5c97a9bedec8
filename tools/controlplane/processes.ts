// Child processes that must never outlive their parent: each is started under `setpriv --pdeathsig
// SIGKILL` (util-linux) when available, so the kernel kills it even if this process is SIGKILLed; and
// every one is tracked so that exit, a failed test or Ctrl-C stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

let setprivPath: string | null | undefined;
/** setpriv, when it exists and supports --pdeathsig; probed once, on first use. */
function setpriv(): string | null {
  if (setprivPath === undefined) {
    const found = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
    setprivPath =
      found !== undefined && spawnSync(found, ['--pdeathsig', 'SIGKILL', '--', 'true']).status === 0
        ? found
        : null;
  }
  return setprivPath;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  installExitHook();
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const wrapper = setpriv();
  const [file, argv] =
    wrapper === null ? [command, args] : [wrapper, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      log.end();
      resolve(code);
    });
    child.once('error', (error) => {
      log.write(`failed to start ${name}: ${error.message}\n`);
    });
  });
  return {
    name,
    child,
    logFile,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
