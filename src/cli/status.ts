// `kubectl coffre status [NAME]`: one line per connection, read from the VaultConnections alone — no
// Secret, no Event — so coffre-view is enough. The exit code says whether every connection is Ready.
import {
  allNamespacesFlag,
  connectionFlags,
  outputFlag,
  booleanFlag,
  stringFlag,
  type Command,
} from './command.ts';
import { statusRows, type ConnectionState, type StatusRow } from './connection-view.ts';
import { CliError, ExitCode, usageError } from './errors.ts';
import { fewWords, parseOutputFormat, printStructured, relative, table } from './format.ts';
import { paint, type Output } from './io.ts';

const FORMATS = ['table', 'wide', 'json', 'yaml'] as const;

export const statusCommand: Command = {
  name: 'status',
  usage: 'status [NAME] [flags]',
  summary: 'Show the state of connections: Ready, Empty, Expired, Stalled or Reconciling.',
  description: [
    'One line per VaultConnection: its type, state (Empty connections are marked "!"), the Ready reason,',
    'when its token expires and is next refreshed, how many connections share its token, and the last',
    'error in a few words. Reads only VaultConnections: the coffre-view role is enough, no Secret is read.',
    '',
    'Exit code: 0 when every connection shown is Ready, 1 when one is not, 2 on a usage error, 3 when',
    'the API server refuses or cannot be reached.',
  ].join('\n'),
  flags: { ...connectionFlags, ...allNamespacesFlag, ...outputFlag(FORMATS) },
  examples: [
    'kubectl coffre status -n payments',
    'kubectl coffre status -A -o wide',
    'kubectl coffre status auth0-management -n payments || echo "not ready"',
  ],
  async run({ io, args, flags, kube }) {
    if (args.length > 1) throw usageError('status takes at most one NAME');
    const format = parseOutputFormat(stringFlag(flags, 'output'), FORMATS);
    const all = booleanFlag(flags, 'all-namespaces');
    const name = args[0];
    if (all && name !== undefined) throw usageError('a NAME cannot be combined with --all-namespaces');
    const client = await kube();
    const namespace = all ? undefined : client.namespace;
    // The whole namespace is listed even for one NAME: the share count needs its neighbours.
    const list = await client.listConnections(namespace);
    const rows = statusRows(list)
      .filter((row) => name === undefined || row.name === name)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    if (name !== undefined && rows.length === 0) {
      throw new CliError(
        `vaultconnection "${name}" not found in namespace "${client.namespace}"`,
        ExitCode.Usage,
      );
    }
    if (format === 'json' || format === 'yaml') {
      printStructured(io.stdout, format, { connections: rows });
    } else if (rows.length === 0) {
      io.stderr.write(
        all ? 'No connections found.\n' : `No connections found in namespace ${client.namespace}.\n`,
      );
    } else {
      io.stdout.write(
        renderStatusTable(io.stdout, rows, { wide: format === 'wide', namespaces: all, now: io.now() }),
      );
    }
    return rows.every((row) => row.state === 'Ready') ? ExitCode.Ok : ExitCode.NotReady;
  },
};

const STATE_COLOUR: Record<ConnectionState, 'green' | 'orange' | 'red' | 'yellow'> = {
  Ready: 'green',
  Empty: 'orange',
  Expired: 'red',
  Stalled: 'red',
  Reconciling: 'yellow',
};

/** The state cell: Empty carries the "!" the vault page shows as an orange icon, in orange on a terminal. */
export function stateCell(output: Output, state: ConnectionState): string {
  return paint(output, STATE_COLOUR[state], state === 'Empty' ? '! Empty' : state);
}

export function renderStatusTable(
  output: Output,
  rows: readonly StatusRow[],
  { wide, namespaces, now }: { wide: boolean; namespaces: boolean; now: number },
): string {
  const headers = [
    ...(namespaces ? ['NAMESPACE'] : []),
    'NAME',
    'TYPE',
    'STATE',
    'REASON',
    'EXPIRES',
    'NEXT REFRESH',
    'SHARED',
    ...(wide ? ['SECRET', 'OAUTHCLIENT', 'LAST REFRESH'] : []),
    'LAST ERROR',
  ];
  const cells = rows.map((row) => [
    ...(namespaces ? [row.namespace] : []),
    row.name,
    row.type,
    stateCell(output, row.state),
    row.reason,
    relative(row.expiresAt, now),
    relative(row.nextRefreshTime, now),
    String(row.sharedBy),
    ...(wide ? [row.secretName, row.oauthClient ?? '-', relative(row.lastRefreshTime, now)] : []),
    wide ? (row.lastError ?? '-') : fewWords(row.lastError),
  ]);
  return table(headers, cells);
}
