// The shape of a command and the flags they share. Each command is one file that declares its flags
// here-style (for parseArgs and for --help alike) and a run() that returns the exit code.
import type { CliIo } from './io.ts';
import type { CliKube } from './kube.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help: `--output FORMAT`. */
  value?: string;
  description: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandInput {
  io: CliIo;
  args: string[];
  flags: FlagValues;
  /** Connects to the cluster of --kubeconfig / --context, as the user. */
  kube: () => Promise<CliKube>;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Paragraphs after the usage line in --help. */
  description: string;
  flags: Flags;
  examples: readonly string[];
  run(input: CommandInput): Promise<number>;
}

export const connectionFlags = {
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NAMESPACE',
    description: "Namespace (default: the context's, else default).",
  },
  context: { type: 'string', value: 'CONTEXT', description: 'The kubeconfig context to use.' },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    description: 'Path of the kubeconfig (default: KUBECONFIG, else ~/.kube/config).',
  },
} as const satisfies Flags;

export const allNamespacesFlag = {
  'all-namespaces': { type: 'boolean', short: 'A', description: 'Every namespace you may list.' },
} as const satisfies Flags;

export const operatorNamespaceFlag = {
  'operator-namespace': {
    type: 'string',
    value: 'NAMESPACE',
    description: 'Where the operator runs (default: coffre-system); its Deployment holds its configuration.',
  },
} as const satisfies Flags;

export const DEFAULT_OPERATOR_NAMESPACE = 'coffre-system';

export function outputFlag(formats: readonly string[]) {
  return {
    output: {
      type: 'string',
      short: 'o',
      value: 'FORMAT',
      description: `Output format: ${formats.join(', ')}.`,
    },
  } as const satisfies Flags;
}

export const helpFlag = {
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
} as const satisfies Flags;

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

export function listFlag(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** The --help text of a command. */
export function helpText(program: string, command: Command): string {
  const all: Flags = { ...command.flags, ...helpFlag };
  const rows = Object.entries(all).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value =
      spec.value === undefined
        ? ''
        : spec.type === 'string' && name === 'dry-run'
          ? `=${spec.value}`
          : ` ${spec.value}`;
    return [`  ${short}--${name}${value}`, spec.description] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    command.summary,
    '',
    `Usage: ${program} ${command.usage}`,
    '',
    command.description,
    '',
    'Flags:',
    ...rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`),
    ...(command.examples.length === 0 ? [] : ['', 'Examples:', ...command.examples.map((e) => `  ${e}`)]),
    '',
  ].join('\n');
}
