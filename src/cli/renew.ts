// `kubectl coffre renew NAME|--all`: what `cmctl renew` is to certificates. Sets the force-refresh
// annotation, waits until the operator has processed that value (status.observedForceRefresh, so
// viewing the connection is enough: no Secret is read), and prints the new expiry or why it failed.
import { ConditionType } from '../api/v1alpha1/conditions.ts';
import { FORCE_REFRESH_ANNOTATION } from '../api/v1alpha1/metadata-keys.ts';
import { type VaultConnection } from '../api/v1alpha1/resources.ts';
import { parseDuration } from '../duration.ts';
import {
  allNamespacesFlag,
  booleanFlag,
  connectionFlags,
  outputFlag,
  stringFlag,
  type Command,
} from './command.ts';
import { conditionOf, mayHaveTokens } from './connection-view.ts';
import { ExitCode, usageError } from './errors.ts';
import { parseOutputFormat, printStructured, relative } from './format.ts';
import { paint } from './io.ts';
import type { CliKube } from './kube.ts';

const FORMATS = ['table', 'json', 'yaml'] as const;
const POLL_MS = 250;

export interface RenewOutcome {
  namespace: string;
  name: string;
  result: 'renewed' | 'failed' | 'timeout' | 'skipped';
  expiresAt?: string;
  reason?: string;
  message?: string;
}

export const renewCommand: Command = {
  name: 'renew',
  usage: 'renew NAME|--all [flags]',
  summary: 'Obtain a new token now, wait until the operator has it, print the new expiry.',
  description: [
    `Sets the ${FORCE_REFRESH_ANNOTATION} annotation to a new value, as`,
    '`kubectl annotate vc NAME coffre.dev/force-refresh=$(date +%s) --overwrite` does, then waits until',
    'the operator has processed it (status.observedForceRefresh holds the value), then reads Ready: True',
    'is renewed, anything else failed (with its reason). Needs patch on vaultconnections (coffre-edit).',
    'Connections without expiring tokens are skipped. Exit code 1 when a renewal failed or timed out.',
  ].join('\n'),
  flags: {
    ...connectionFlags,
    ...allNamespacesFlag,
    all: {
      type: 'boolean',
      description: 'Every token connection in the namespace (with -A, in every namespace).',
    },
    timeout: {
      type: 'string',
      value: 'DURATION',
      description: 'How long to wait for each renewal (default 60s).',
    },
    ...outputFlag(FORMATS),
  },
  examples: ['kubectl coffre renew auth0-management -n payments', 'kubectl coffre renew --all -A'],
  async run({ io, args, flags, kube }) {
    const format = parseOutputFormat(stringFlag(flags, 'output'), FORMATS);
    const all = booleanFlag(flags, 'all');
    const allNamespaces = booleanFlag(flags, 'all-namespaces');
    if (all === args.length > 0) throw usageError('renew takes a NAME, or --all');
    if (allNamespaces && !all) throw usageError('--all-namespaces goes with --all');
    if (args.length > 1) throw usageError('renew takes one NAME (or --all)');
    const timeoutText = stringFlag(flags, 'timeout') ?? '60s';
    const timeoutMs = parseDuration(timeoutText);
    if (timeoutMs === undefined || timeoutMs <= 0) {
      throw usageError(`--timeout ${timeoutText}: expected a duration such as 30s or 2m`);
    }
    const client = await kube();
    const targets = all
      ? await client.listConnections(allNamespaces ? undefined : client.namespace)
      : [await client.getConnection(client.namespace, args[0] ?? '')];
    const outcomes = await Promise.all(targets.map((c) => renewOne(client, c, timeoutMs, io.now)));
    if (format !== 'table') printStructured(io.stdout, format, { renewals: outcomes });
    else {
      for (const o of outcomes) {
        const who = allNamespaces ? `${o.namespace}/${o.name}` : o.name;
        if (o.result === 'renewed') {
          io.stdout.write(
            `${who}: ${paint(io.stdout, 'green', 'renewed')}, expires ${o.expiresAt ?? '-'} (${relative(o.expiresAt, io.now())})\n`,
          );
        } else if (o.result === 'skipped') io.stdout.write(`${who}: skipped, ${o.message ?? ''}\n`);
        else {
          io.stdout.write(
            `${who}: ${paint(io.stdout, 'red', o.result === 'failed' ? 'failed' : 'timed out')}, ${o.reason ?? '-'}: ${o.message ?? ''}\n`,
          );
        }
      }
      if (outcomes.length === 0) io.stderr.write('No connections found.\n');
    }
    return outcomes.every((o) => o.result === 'renewed' || o.result === 'skipped')
      ? ExitCode.Ok
      : ExitCode.NotReady;
  },
};

async function renewOne(
  client: CliKube,
  connection: VaultConnection,
  timeoutMs: number,
  now: () => number,
): Promise<RenewOutcome> {
  const namespace = connection.metadata.namespace ?? client.namespace;
  const name = connection.metadata.name ?? '';
  if (!mayHaveTokens(connection)) {
    return {
      namespace,
      name,
      result: 'skipped',
      message: `${connection.spec.type} connections hold no expiring token`,
    };
  }
  const requestedAt = now();
  // A value that differs from every earlier one, also for two renewals within the same second.
  const value = new Date(requestedAt).toISOString();
  await client.annotateConnection(namespace, name, { [FORCE_REFRESH_ANNOTATION]: value });
  const deadline = requestedAt + timeoutMs;
  for (;;) {
    const current = await client.getConnection(namespace, name);
    // status.observedForceRefresh is written with the outcome, in the same patch: the Ready condition
    // beside it is the one for this value (what `kubectl wait --for=jsonpath=...` waits on too).
    if (current.status?.observedForceRefresh === value) {
      const ready = conditionOf(current, ConditionType.Ready);
      if (ready?.status === 'True') {
        const expiresAt = current.status.expiresAt;
        return { namespace, name, result: 'renewed', ...(expiresAt === undefined ? {} : { expiresAt }) };
      }
      return {
        namespace,
        name,
        result: 'failed',
        reason: ready?.reason ?? '-',
        message: ready?.message ?? 'no Ready condition',
      };
    }
    if (now() > deadline) {
      const ready = conditionOf(current, ConditionType.Ready);
      return {
        namespace,
        name,
        result: 'timeout',
        reason: ready?.reason ?? '-',
        message: `the operator did not honour ${FORCE_REFRESH_ANNOTATION}=${value} within ${Math.round(timeoutMs / 1000)}s; is it running and watching namespace ${namespace}?`,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
