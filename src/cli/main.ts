// kubectl-coffre: the entry point. Parses the command line, dispatches to one command, maps errors to
// exit codes. The only file with process side effects (argv, exit code), as src/main.ts is for the
// operator; run() takes its I/O so tests can drive it in-process too.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { checkCommand } from './check.ts';
import { helpFlag, helpText, type Command, type Flags, type FlagValues } from './command.ts';
import { createCommand } from './create.ts';
import { describeCommand } from './describe.ts';
import { CliError, ExitCode } from './errors.ts';
import { streamOutput, type CliIo } from './io.ts';
import { CliKube } from './kube.ts';
import { renewCommand } from './renew.ts';
import { statusCommand } from './status.ts';
import { PLUGIN_VERSION, versionCommand } from './version.ts';

export const PROGRAM = 'kubectl coffre';

export const commands: readonly Command[] = [
  statusCommand,
  describeCommand,
  renewCommand,
  checkCommand,
  createCommand,
  versionCommand,
];

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'kubectl coffre: coffre connections at the command line (VaultConnection, OAuthClient).',
    '',
    `Usage: ${PROGRAM} COMMAND [flags]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Flags: -h, --help (also after a command), --version. "${PROGRAM} COMMAND --help" for a command's flags.`,
    'Exit codes: 0 ok, 1 not Ready / check or renewal failed, 2 usage error, 3 API server error.',
    '',
  ].join('\n');
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic === undefined ? mainHelp() : helpText(PROGRAM, topic));
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version') {
    io.stdout.write(`kubectl-coffre ${PLUGIN_VERSION}\n`);
    return ExitCode.Ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`error: unknown command "${name}"\n\n${mainHelp()}`);
    return ExitCode.Usage;
  }
  let clients: CliKube | undefined;
  try {
    let parsed: { values: FlagValues; positionals: string[] };
    try {
      const options: ParseArgsOptionsConfig = {};
      for (const [flag, spec] of Object.entries({ ...command.flags, ...helpFlag } as Flags)) {
        options[flag] = {
          type: spec.type,
          ...(spec.short === undefined ? {} : { short: spec.short }),
          ...(spec.multiple === true ? { multiple: true } : {}),
        };
      }
      const { values, positionals } = parseArgs({
        args: [...rest],
        options,
        allowPositionals: true,
        strict: true,
      });
      parsed = { values, positionals };
    } catch (error) {
      // parseArgs names the flag, never a value.
      throw new CliError(error instanceof Error ? error.message : String(error), ExitCode.Usage);
    }
    if (parsed.values.help === true) {
      io.stdout.write(helpText(PROGRAM, command));
      return ExitCode.Ok;
    }
    const flags = parsed.values;
    return await command.run({
      io,
      args: parsed.positionals,
      flags,
      kube: async () => {
        clients ??= await CliKube.connect({
          kubeconfig: typeof flags.kubeconfig === 'string' ? flags.kubeconfig : undefined,
          context: typeof flags.context === 'string' ? flags.context : undefined,
          namespace: typeof flags.namespace === 'string' ? flags.namespace : undefined,
        });
        return clients;
      },
    });
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`error: ${error.message}\n`);
      if (error.exitCode === ExitCode.Usage && error.message.includes('Unknown option')) {
        io.stderr.write(`See "${PROGRAM} ${command.name} --help".\n`);
      }
      return error.exitCode;
    }
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.Api;
  } finally {
    await clients?.close();
  }
}

/** The process: real streams, the exit code set (not process.exit, so output is flushed first). */
export async function main(): Promise<void> {
  const io: CliIo = {
    stdout: streamOutput(process.stdout, process.env),
    stderr: streamOutput(process.stderr, process.env),
    stdin: process.stdin,
    env: process.env,
    now: () => Date.now(),
  };
  process.exitCode = await run(process.argv.slice(2), io);
}
