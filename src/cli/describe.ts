// `kubectl coffre describe NAME`: one connection in full — its conditions and their history (the Events
// of each transition), the target Secret's keys (never its values), the OAuthClient it uses, and what
// the caller, and a viewer, may see. Each part the caller may not read is named, not an error.
import { ConditionType } from '../api/v1alpha1/conditions.ts';
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { type OAuthClient, type VaultConnection } from '../api/v1alpha1/resources.ts';
import { connectionFlags, outputFlag, stringFlag, type Command } from './command.ts';
import { sharingWith, stateOf, targetSecretName } from './connection-view.ts';
import { usageError } from './errors.ts';
import { parseOutputFormat, printStructured, relative, table } from './format.ts';
import type { Output } from './io.ts';
import { eventTimestamp, type CliKube, type KubeEvent, type SecretLookup } from './kube.ts';
import { stateCell } from './status.ts';
import { adviceFor } from './troubleshooting.ts';

const FORMATS = ['table', 'json', 'yaml'] as const;

interface Access {
  /** What the caller may do, by question. */
  secrets: boolean;
  events: boolean;
  renew: boolean;
}

export interface Description {
  connection: {
    namespace: string;
    name: string;
    type: string;
    summary: string;
    state: string;
    credentials: string;
    status: VaultConnection['status'];
    sharesTokenWith: string[];
  };
  conditions: NonNullable<NonNullable<VaultConnection['status']>['conditions']>;
  /** The Events of the connection, oldest first; absent when the caller may not list Events. */
  history?: { time: string; type: string; reason: string; message: string; count: number }[];
  targetSecret: { name: string; keys?: string[]; annotations?: Record<string, string>; unavailable?: string };
  oauthClient?: {
    name: string;
    found: boolean;
    issuer?: string;
    tokenEndpoint?: string;
    authMethod?: string;
    clientId?: string;
    ready?: string;
  };
  access: { user: string } & Access;
}

export const describeCommand: Command = {
  name: 'describe',
  usage: 'describe NAME [flags]',
  summary: 'Show one connection: conditions with their history, target Secret keys, OAuthClient, access.',
  description: [
    'Everything about one VaultConnection that can be shown without a secret value: its conditions and',
    'their history from Events, the status fields, the connections that share its token, the keys (never',
    'the values) of its target Secret, the OAuthClient it uses, and what you may see. A coffre-view user',
    'sees everything but the Secret keys (they need get on Secrets) and the history (list on Events, which',
    'the built-in view role grants).',
  ].join('\n'),
  flags: { ...connectionFlags, ...outputFlag(FORMATS) },
  examples: ['kubectl coffre describe auth0-management -n payments', 'kubectl coffre describe crm -o yaml'],
  async run({ io, args, flags, kube }) {
    const name = args[0];
    if (name === undefined || args.length > 1) throw usageError('describe takes exactly one NAME');
    const format = parseOutputFormat(stringFlag(flags, 'output'), FORMATS);
    const client = await kube();
    const description = await gatherDescription(client, client.namespace, name);
    if (format === 'table') io.stdout.write(renderDescription(io.stdout, description, io.now()));
    else printStructured(io.stdout, format, description);
    return 0;
  },
};

export async function gatherDescription(
  client: CliKube,
  namespace: string,
  name: string,
): Promise<Description> {
  const connection = await client.getConnection(namespace, name);
  const secretName = targetSecretName(connection);
  const [neighbours, events, target, oauthClient, access, user] = await Promise.all([
    client.listConnections(namespace),
    client.eventsFor(namespace, 'VaultConnection', name),
    client.secretShape(namespace, secretName),
    connection.spec.oauthClientRef === undefined
      ? Promise.resolve(undefined)
      : client.getOAuthClient(namespace, connection.spec.oauthClientRef.name),
    accessOf(client, namespace, name, secretName),
    client.whoAmI(),
  ]);
  const { spec } = connection;
  return {
    connection: {
      namespace,
      name,
      type: spec.type,
      summary: connectionTypes[spec.type].summary,
      state: stateOf(connection),
      credentials: credentialsOf(connection),
      status: connection.status,
      sharesTokenWith: sharingWith(connection, neighbours),
    },
    conditions: connection.status?.conditions ?? [],
    ...(events === undefined ? {} : { history: events.map(historyEntry) }),
    targetSecret: targetOf(secretName, target),
    ...(spec.oauthClientRef === undefined
      ? {}
      : { oauthClient: oauthClientOf(spec.oauthClientRef.name, oauthClient) }),
    access: { user, ...access },
  };
}

async function accessOf(client: CliKube, namespace: string, name: string, secret: string): Promise<Access> {
  const [secrets, events, renew] = await Promise.all([
    client.can(namespace, { verb: 'get', resource: 'secrets', name: secret }),
    client.can(namespace, { verb: 'list', resource: 'events' }),
    client.can(namespace, { verb: 'patch', resource: 'vaultconnections', group: 'coffre.dev', name }),
  ]);
  return { secrets, events, renew };
}

function credentialsOf(connection: VaultConnection): string {
  const { spec } = connection;
  if (spec.oauthClientRef !== undefined) {
    return spec.credentialsRef === undefined
      ? `OAuthClient ${spec.oauthClientRef.name}`
      : `OAuthClient ${spec.oauthClientRef.name}, Secret ${spec.credentialsRef.name}`;
  }
  if (spec.credentialsRef !== undefined) return `Secret ${spec.credentialsRef.name}`;
  return 'none (an empty connection)';
}

function historyEntry(event: KubeEvent) {
  return {
    time: eventTimestamp(event),
    type: event.type ?? 'Normal',
    reason: event.reason ?? '',
    message: event.message ?? '',
    count: event.count ?? 1,
  };
}

function targetOf(name: string, lookup: SecretLookup): Description['targetSecret'] {
  if (!lookup.found) {
    return {
      name,
      unavailable:
        lookup.why === 'not-found' ? 'not written yet' : `${lookup.message} (keys need get on Secrets)`,
    };
  }
  const coffreAnnotations = Object.fromEntries(
    Object.entries(lookup.secret.annotations).filter(([key]) => key.startsWith('coffre.dev/')),
  );
  return {
    name,
    keys: [...lookup.secret.keys, ...lookup.secret.blankKeys].sort(),
    annotations: coffreAnnotations,
  };
}

function oauthClientOf(
  name: string,
  client: OAuthClient | undefined,
): NonNullable<Description['oauthClient']> {
  if (client === undefined) return { name, found: false };
  const ready = client.status?.conditions?.find((c) => c.type === ConditionType.Ready);
  return {
    name,
    found: true,
    issuer: client.spec.issuer,
    ...(client.spec.tokenEndpoint === undefined && client.status?.tokenEndpoint === undefined
      ? {}
      : { tokenEndpoint: client.spec.tokenEndpoint ?? client.status?.tokenEndpoint }),
    authMethod: client.spec.authMethod ?? 'client_secret_basic',
    clientId: client.spec.clientId,
    ...(ready === undefined ? {} : { ready: `${ready.status} (${ready.reason})` }),
  };
}

const yesNo = (allowed: boolean) => (allowed ? 'yes' : 'no');

export function renderDescription(output: Output, d: Description, now: number): string {
  const lines: string[] = [];
  const field = (label: string, value: string | undefined) => {
    if (value !== undefined) lines.push(`${`${label}:`.padEnd(16)}${value}`);
  };
  const status = d.connection.status ?? {};
  const ready = d.conditions.find((c) => c.type === ConditionType.Ready);
  field('Name', d.connection.name);
  field('Namespace', d.connection.namespace);
  field('Type', d.connection.type);
  field(
    'State',
    `${stateCell(output, d.connection.state as 'Ready')}${ready === undefined ? '' : ` (${ready.reason})`}`,
  );
  field('Credentials', d.connection.credentials);
  field('Target Secret', d.targetSecret.name);
  if (status.expiresAt !== undefined)
    field('Expires', `${status.expiresAt} (${relative(status.expiresAt, now)})`);
  if (status.lastRefreshTime !== undefined)
    field('Last refresh', `${status.lastRefreshTime} (${relative(status.lastRefreshTime, now)})`);
  if (status.nextRefreshTime !== undefined)
    field('Next refresh', `${status.nextRefreshTime} (${relative(status.nextRefreshTime, now)})`);
  if (status.grantedScopes !== undefined) field('Granted scopes', status.grantedScopes.join(' '));
  field(
    'Shares token',
    d.connection.sharesTokenWith.length === 0
      ? 'with no other connection'
      : `with ${d.connection.sharesTokenWith.join(', ')}`,
  );

  lines.push('', 'Conditions:');
  if (d.conditions.length === 0) lines.push('  none yet (the operator has not reconciled it)');
  else {
    const body = table(
      ['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
      d.conditions.map((c) => [c.type, c.status, c.reason, relative(c.lastTransitionTime, now), c.message]),
    );
    lines.push(...indent(body));
  }
  if (ready !== undefined && ready.status !== 'True') {
    const advice = adviceFor(ready.reason);
    if (advice !== undefined) lines.push(`  What to do (${ready.reason}): ${advice.action}`);
  }

  lines.push('', 'History (Events):');
  if (d.history === undefined) lines.push('  not shown: you may not list Events in this namespace');
  else if (d.history.length === 0) lines.push('  none (Events are kept for an hour)');
  else {
    const body = table(
      ['AGE', 'TYPE', 'REASON', 'MESSAGE'],
      d.history.map((e) => [
        relative(e.time, now).replace(/ ago$/, ''),
        e.type,
        e.reason,
        e.count > 1 ? `${e.message} (x${e.count})` : e.message,
      ]),
    );
    lines.push(...indent(body));
  }

  lines.push('', `Target Secret ${d.targetSecret.name} (keys only, values are never shown):`);
  if (d.targetSecret.unavailable !== undefined) lines.push(`  ${d.targetSecret.unavailable}`);
  else {
    lines.push(`  Keys: ${d.targetSecret.keys?.join(', ') ?? ''}`);
    for (const [key, value] of Object.entries(d.targetSecret.annotations ?? {}))
      lines.push(`  ${key}: ${value}`);
  }

  if (d.oauthClient !== undefined) {
    lines.push('', `OAuthClient ${d.oauthClient.name}:`);
    if (!d.oauthClient.found) lines.push('  not found in this namespace');
    else {
      const c = d.oauthClient;
      lines.push(`  Issuer:         ${c.issuer ?? '-'}`);
      lines.push(`  Token endpoint: ${c.tokenEndpoint ?? '(from discovery, not resolved yet)'}`);
      lines.push(`  Auth method:    ${c.authMethod ?? '-'}`);
      lines.push(`  Client ID:      ${c.clientId ?? '-'}`);
      lines.push(`  Ready:          ${c.ready ?? 'not reconciled yet'}`);
    }
  }

  lines.push('', `Access (as ${d.access.user === '' ? 'you' : d.access.user}):`);
  lines.push(`  Connection and status:        yes`);
  lines.push(`  History (list Events):        ${yesNo(d.access.events)}`);
  lines.push(`  Secret keys (get Secrets):    ${yesNo(d.access.secrets)}`);
  lines.push(`  Renew (patch the connection): ${yesNo(d.access.renew)}`);
  lines.push(
    '  A viewer (coffre-view) sees the connection, its status, conditions and OAuthClient; never a Secret.',
  );
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`);
}
