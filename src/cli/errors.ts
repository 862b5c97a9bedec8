// The CLI's exit codes and its one error class. Scripts key on the exit code: 0 all good, 1 a
// connection is not Ready (or a check, a renewal failed), 2 a usage error, 3 the API server refused or
// could not be reached, 130 interrupted at a prompt.
export const ExitCode = {
  Ok: 0,
  NotReady: 1,
  Usage: 2,
  Api: 3,
  /** Ctrl-C at a prompt: the conventional code of SIGINT. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage);
}
