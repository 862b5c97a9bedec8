// Where a command writes, and whether it may colour: colour only on a terminal, never when NO_COLOR
// is set (https://no-color.org), so piped output and scripts see plain text.
export interface Output {
  write(text: string): void;
  /** Whether this stream is a terminal that gets ANSI colours. */
  readonly colour: boolean;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  stdin: NodeJS.ReadStream;
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
}

export function streamOutput(stream: NodeJS.WriteStream, env: CliIo['env']): Output {
  const colour = stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return { write: (text) => stream.write(text), colour };
}

const ANSI = { orange: '38;5;208', red: '31', green: '32', yellow: '33', dim: '2', bold: '1' } as const;
export type Colour = keyof typeof ANSI;

export function paint(output: Output, colour: Colour, text: string): string {
  return output.colour ? `\u001b[${ANSI[colour]}m${text}\u001b[0m` : text;
}

/** Visible width of a string that may hold ANSI colour sequences. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
