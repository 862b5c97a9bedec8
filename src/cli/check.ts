// `kubectl coffre check NAME`: the questions on-call asks when a connection is not Ready, answered
// without printing a secret — do the referenced Secrets exist with the keys the type needs, does the
// token endpoint resolve to addresses the operator's SSRF policy allows (its allowlist read from its
// Deployment), does TLS verify, does discovery answer, and what to do about the reason it reports.
// Network checks run from where the command runs, which may not be where the operator runs.
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { connect, rootCertificates } from 'node:tls';
import { Agent, fetch } from 'undici';
import { ConditionType } from '../api/v1alpha1/conditions.ts';
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { type OAuthClient, type VaultConnection } from '../api/v1alpha1/resources.ts';
import {
  createAddressPolicy,
  describeRefusal,
  isIpLiteral,
  stripDecorations,
} from '../oauth/address-policy.ts';
import {
  connectionFlags,
  DEFAULT_OPERATOR_NAMESPACE,
  operatorNamespaceFlag,
  outputFlag,
  stringFlag,
  type Command,
} from './command.ts';
import { conditionOf, stateOf } from './connection-view.ts';
import { ExitCode, usageError } from './errors.ts';
import { parseOutputFormat, printStructured } from './format.ts';
import { paint, type Output } from './io.ts';
import type { CliKube, SecretLookup } from './kube.ts';
import { readOperatorConfig, type OperatorConfig } from './operator-config.ts';
import { adviceFor } from './troubleshooting.ts';

const FORMATS = ['table', 'json', 'yaml'] as const;
const NETWORK_TIMEOUT_MS = 10_000;

export type CheckResult = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckItem {
  check: string;
  result: CheckResult;
  detail: string;
}

export const checkCommand: Command = {
  name: 'check',
  usage: 'check NAME [flags]',
  summary: 'Diagnose a connection: Secrets and keys, SSRF policy, TLS, discovery, the reason and the fix.',
  description: [
    'Answers, without printing a secret value: do the referenced Secrets (and OAuthClient) exist and hold',
    'the keys the connection type requires; does the token endpoint (and the issuer, for discovery) resolve',
    "to addresses the operator's SSRF policy allows — the allowlist is read from the operator's Deployment",
    "(--operator-namespace), else the defaults are assumed; does TLS verify (system roots, the operator's",
    'CA bundle when readable, and --ca-file); does discovery answer with a token endpoint; and which reason',
    'the operator reports, with what to do about it (docs/operations.md, troubleshooting by reason).',
    'Network checks run from this machine. Exit code 1 when a check fails.',
  ].join('\n'),
  flags: {
    ...connectionFlags,
    ...operatorNamespaceFlag,
    'ca-file': {
      type: 'string',
      value: 'FILE',
      description: 'Extra CA bundle (PEM) to trust for the TLS check.',
    },
    ...outputFlag(FORMATS),
  },
  examples: ['kubectl coffre check billing-api -n payments', 'kubectl coffre check crm -o json'],
  async run({ io, args, flags, kube }) {
    const name = args[0];
    if (name === undefined || args.length > 1) throw usageError('check takes exactly one NAME');
    const format = parseOutputFormat(stringFlag(flags, 'output'), FORMATS);
    const caFile = stringFlag(flags, 'ca-file');
    const extraCa =
      caFile === undefined
        ? undefined
        : await readFile(caFile, 'utf8').catch(() => {
            throw usageError(`--ca-file ${caFile}: cannot read it`);
          });
    const client = await kube();
    const connection = await client.getConnection(client.namespace, name);
    const operator = await readOperatorConfig(
      client,
      stringFlag(flags, 'operator-namespace') ?? DEFAULT_OPERATOR_NAMESPACE,
    );
    const items = await runChecks(client, connection, operator, extraCa);
    if (format === 'table') io.stdout.write(renderChecks(io.stdout, connection, items));
    else
      printStructured(io.stdout, format, {
        connection: { namespace: client.namespace, name },
        checks: items,
      });
    return items.some((item) => item.result === 'fail') ? ExitCode.NotReady : ExitCode.Ok;
  },
};

export async function runChecks(
  client: CliKube,
  connection: VaultConnection,
  operator: OperatorConfig,
  extraCa: string | undefined,
): Promise<CheckItem[]> {
  const namespace = connection.metadata.namespace ?? client.namespace;
  const { spec } = connection;
  const items: CheckItem[] = [];
  const add = (check: string, result: CheckResult, detail: string) => items.push({ check, result, detail });
  const info = connectionTypes[spec.type];

  add(
    'operator configuration',
    operator.source.startsWith('defaults') ? 'warn' : 'pass',
    `${operator.source}; SSRF allowlist: ${operator.config.egress.allowedCIDRs.join(', ') || 'none'}`,
  );

  // Credentials: the Secret named by credentialsRef, with one complete variant of the type's keys.
  let variant: string | undefined;
  if (spec.credentialsRef !== undefined) {
    const shape = await client.secretShape(namespace, spec.credentialsRef.name);
    const variants =
      spec.oauthClientRef !== undefined
        ? info.variants.filter((v) => v.name === 'refresh-token')
        : info.variants;
    const outcome = credentialsCheck(spec.credentialsRef.name, shape, variants);
    variant = outcome.variant;
    add('credentials Secret', outcome.result, outcome.detail);
  } else if (spec.oauthClientRef === undefined) {
    add(
      'credentials Secret',
      'warn',
      'no credentialsRef: an empty connection (Empty=True, NoCredentialsRef) until one is set',
    );
  }

  // The OAuthClient and its own Secret.
  let oauthClient: OAuthClient | undefined;
  if (spec.oauthClientRef !== undefined) {
    oauthClient = await client.getOAuthClient(namespace, spec.oauthClientRef.name);
    if (oauthClient === undefined)
      add('OAuthClient', 'fail', `OAuthClient ${spec.oauthClientRef.name} not found in ${namespace}`);
    else {
      const ready = oauthClient.status?.conditions?.find((c) => c.type === ConditionType.Ready);
      add(
        'OAuthClient',
        ready?.status === 'True' ? 'pass' : ready === undefined ? 'warn' : 'fail',
        `OAuthClient ${oauthClient.metadata.name}: Ready=${ready?.status ?? 'unknown'}${ready === undefined ? '' : ` (${ready.reason})`}`,
      );
      const usesKey = oauthClient.spec.authMethod === 'private_key_jwt';
      const ref = usesKey ? oauthClient.spec.privateKeyRef : oauthClient.spec.clientSecretRef;
      if (ref === undefined)
        add(
          'OAuthClient Secret',
          'warn',
          `the OAuthClient has no ${usesKey ? 'privateKeyRef' : 'clientSecretRef'}: it is Empty`,
        );
      else {
        const key = ref.key ?? (usesKey ? 'privateKey' : 'clientSecret');
        const shape = await client.secretShape(namespace, ref.name);
        add('OAuthClient Secret', ...keyCheck(ref.name, shape, key));
      }
    }
  }

  // The token endpoint, when the connection obtains tokens.
  const endpoint = tokenEndpointOf(connection, oauthClient, operator, variant);
  const ca = [
    ...rootCertificates,
    ...(operator.caPem === undefined ? [] : [operator.caPem]),
    ...(extraCa === undefined ? [] : [extraCa]),
  ];
  const caDetail =
    operator.caPem !== undefined
      ? "system roots and the operator's CA bundle"
      : operator.caNote !== undefined
        ? `system roots (${operator.caNote})`
        : 'system roots';
  if (endpoint.kind === 'none') add('token endpoint', 'skip', endpoint.why);
  else {
    const policy = createAddressPolicy(operator.config.egress.allowedCIDRs);
    const hosts = endpoint.kind === 'discovery' ? [endpoint.issuer] : [endpoint.url];
    if (endpoint.kind === 'static') add('token endpoint', 'pass', `${endpoint.url} (${endpoint.from})`);
    else
      add(
        'token endpoint',
        'pass',
        `from discovery of ${endpoint.issuer}${endpoint.resolved === undefined ? '' : `; the operator resolved ${endpoint.resolved}`}`,
      );
    if (endpoint.kind === 'discovery' && endpoint.resolved !== undefined) hosts.push(endpoint.resolved);
    const seen = new Set<string>();
    for (const url of hosts) {
      const parsed = new URL(url);
      if (seen.has(parsed.host)) continue;
      seen.add(parsed.host);
      if (parsed.protocol !== 'https:' && !operator.config.egress.allowHttp) {
        add(
          `SSRF policy (${parsed.host})`,
          'fail',
          `${url} is not https: the operator refuses it (EndpointRefused)`,
        );
        continue;
      }
      add(`SSRF policy (${parsed.host})`, ...(await addressCheck(parsed.hostname, policy)));
      add(`TLS (${parsed.host})`, ...(await tlsCheck(parsed, ca, caDetail)));
    }
    if (endpoint.kind === 'discovery') add('discovery', ...(await discoveryCheck(endpoint.issuer, ca)));
    else add('discovery', 'skip', 'a static token endpoint: no discovery');
  }

  // What the operator reports, and what to do about it.
  const ready = conditionOf(connection, ConditionType.Ready);
  if (ready === undefined)
    add(
      'operator reports',
      'warn',
      'no Ready condition yet: is the operator running and watching this namespace?',
    );
  else {
    const advice = adviceFor(ready.reason);
    const state = stateOf(connection);
    add(
      'operator reports',
      ready.status === 'True' ? 'pass' : state === 'Empty' ? 'warn' : 'fail',
      `Ready=${ready.status} ${ready.reason}: ${ready.message}${ready.status === 'True' || advice === undefined ? '' : `\nWhat to do: ${advice.action}`}`,
    );
  }
  return items;
}

function credentialsCheck(
  name: string,
  lookup: SecretLookup,
  variants: readonly { name: string; keys: readonly string[] }[],
): { result: CheckResult; detail: string; variant?: string } {
  if (!lookup.found) {
    return lookup.why === 'not-found'
      ? {
          result: 'warn',
          detail: `Secret ${name} does not exist: the connection is Empty (SecretNotFound) until it does`,
        }
      : { result: 'fail', detail: `cannot check Secret ${name}: ${lookup.message}` };
  }
  const present = new Set(lookup.secret.keys);
  const complete = variants.find((v) => v.keys.every((k) => present.has(k)));
  if (complete !== undefined) {
    return {
      result: 'pass',
      detail: `Secret ${name} holds ${complete.keys.join(', ')} (${complete.name})`,
      variant: complete.name,
    };
  }
  const wanted = variants.map(
    (v) => `${v.name}: ${v.keys.map((k) => (present.has(k) ? k : `${k} (missing)`)).join(', ')}`,
  );
  const blank = lookup.secret.blankKeys.length === 0 ? '' : `; blank: ${lookup.secret.blankKeys.join(', ')}`;
  return {
    result: 'warn',
    detail: `Secret ${name} lacks required keys (KeysMissing) — ${wanted.join(' | ')}${blank}`,
  };
}

function keyCheck(name: string, lookup: SecretLookup, key: string): [CheckResult, string] {
  if (!lookup.found) {
    return lookup.why === 'not-found'
      ? ['warn', `Secret ${name} does not exist`]
      : ['fail', `cannot check Secret ${name}: ${lookup.message}`];
  }
  if (lookup.secret.keys.includes(key)) return ['pass', `Secret ${name} holds ${key}`];
  return ['warn', `Secret ${name} has no non-blank key ${key}`];
}

type Endpoint =
  | { kind: 'none'; why: string }
  | { kind: 'static'; url: string; from: string }
  | { kind: 'discovery'; issuer: string; resolved?: string };

function tokenEndpointOf(
  connection: VaultConnection,
  client: OAuthClient | undefined,
  operator: OperatorConfig,
  variant: string | undefined,
): Endpoint {
  const { spec } = connection;
  const tokens = connectionTypes[spec.type].tokens;
  if (tokens === 'never')
    return { kind: 'none', why: `${spec.type} connections hold static credentials: no token endpoint` };
  if (spec.oauthClientRef !== undefined) {
    if (client === undefined) return { kind: 'none', why: 'no OAuthClient to read the endpoint from' };
    if (client.spec.tokenEndpoint !== undefined)
      return { kind: 'static', url: client.spec.tokenEndpoint, from: 'OAuthClient spec.tokenEndpoint' };
    return {
      kind: 'discovery',
      issuer: client.spec.issuer,
      ...(client.status?.tokenEndpoint === undefined ? {} : { resolved: client.status.tokenEndpoint }),
    };
  }
  if (spec.type === 'auth0') {
    return {
      kind: 'static',
      url: `https://${spec.auth0?.domain ?? ''}/oauth/token`,
      from: 'the Auth0 tenant domain',
    };
  }
  if (spec.type === 'slack') {
    if (variant === 'bot-token')
      return { kind: 'none', why: 'a bot token does not expire: no token endpoint' };
    return {
      kind: 'static',
      url: `${operator.config.providers.slackApiBaseUrl.replace(/\/+$/, '')}/oauth.v2.access`,
      from: 'Slack token rotation',
    };
  }
  if (spec.type === 'shopify') {
    if (variant === 'admin-token')
      return { kind: 'none', why: 'an admin API token does not expire: no token endpoint' };
    const base = operator.config.providers.shopifyBaseUrl
      .replace('{shop}', spec.shopify?.shopDomain ?? '')
      .replace(/\/+$/, '');
    return { kind: 'static', url: `${base}/admin/oauth/access_token`, from: 'the shop domain' };
  }
  if (spec.type === 'twilio') {
    if (variant !== 'oauth-app')
      return {
        kind: 'none',
        why:
          variant === undefined
            ? "twilio connections hold static credentials unless the Secret has an OAuth app's clientId and clientSecret: no token endpoint yet"
            : 'basic-auth credentials do not expire: no token endpoint',
      };
    return {
      kind: 'static',
      url: `${operator.config.providers.twilioOAuthBaseUrl.replace(/\/+$/, '')}/v2/token`,
      from: 'the Twilio OAuth service',
    };
  }
  if (spec.type === 'zendesk') {
    if (variant !== 'oauth-client')
      return {
        kind: 'none',
        why:
          variant === undefined
            ? 'zendesk connections mint tokens once the Secret has an OAuth client: no token endpoint yet'
            : 'an API token or a static OAuth token does not expire: no token endpoint',
      };
    const base = operator.config.providers.zendeskBaseUrl
      .replace('{subdomain}', spec.zendesk?.subdomain ?? '')
      .replace(/\/+$/, '');
    return { kind: 'static', url: `${base}/oauth/tokens`, from: 'the Zendesk subdomain' };
  }
  return { kind: 'none', why: 'no token endpoint known for this connection' };
}

async function addressCheck(
  hostname: string,
  policy: ReturnType<typeof createAddressPolicy>,
): Promise<[CheckResult, string]> {
  const host = stripDecorations(hostname);
  let addresses: string[];
  try {
    addresses = isIpLiteral(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (error) {
    return [
      'fail',
      `${host} does not resolve here (${codeOf(error)}): the operator would report EndpointUnreachable`,
    ];
  }
  const refused = addresses.flatMap((address) => {
    const refusal = policy.refusal(address);
    return refusal === undefined ? [] : [`${address} is ${describeRefusal(refusal)}`];
  });
  if (refused.length > 0) {
    return [
      'fail',
      `${refused.join('; ')}: refused by the operator's SSRF policy (EndpointRefused); allowlist it with --allowed-cidrs (operator.allowedCIDRs)`,
    ];
  }
  return ['pass', `${host} resolves to ${addresses.join(', ')}: allowed`];
}

function tlsCheck(url: URL, ca: string[], caDetail: string): Promise<[CheckResult, string]> {
  const host = stripDecorations(url.hostname);
  const port = Number(url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : url.port);
  if (url.protocol !== 'https:') return Promise.resolve(['skip', 'not https']);
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ca,
      rejectUnauthorized: false,
      ...(isIpLiteral(host) ? {} : { servername: host }),
      timeout: NETWORK_TIMEOUT_MS,
    });
    const done = (result: [CheckResult, string]) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      if (socket.authorized)
        done(['pass', `the certificate of ${url.host} verifies against the ${caDetail}`]);
      else {
        done([
          'fail',
          `the certificate of ${url.host} does not verify (${String(socket.authorizationError)}) against the ${caDetail}: EndpointUnreachable; give the operator the CA with --ca-file (operator.caBundle)`,
        ]);
      }
    });
    socket.once('timeout', () => {
      done(['fail', `no TLS handshake with ${url.host} within ${NETWORK_TIMEOUT_MS / 1000}s`]);
    });
    socket.once('error', (error) => {
      done(['fail', `cannot connect to ${url.host} (${codeOf(error)})`]);
    });
  });
}

async function discoveryCheck(issuer: string, ca: string[]): Promise<[CheckResult, string]> {
  const base = new URL(issuer);
  const path = base.pathname.replace(/\/+$/, '');
  // OpenID Connect first, then RFC 8414, as the operator's discovery does.
  const candidates = [
    new URL(`${path}/.well-known/openid-configuration`, base.origin),
    new URL(`/.well-known/oauth-authorization-server${path}`, base.origin),
  ];
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const failures: string[] = [];
    for (const url of candidates) {
      try {
        const response = await fetch(url, {
          dispatcher,
          redirect: 'error',
          signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
          headers: { accept: 'application/json' },
        });
        if (!response.ok) {
          await response.body?.cancel();
          failures.push(`${url.pathname}: HTTP ${response.status}`);
          continue;
        }
        const metadata = (await response.json()) as { token_endpoint?: unknown; issuer?: unknown };
        if (typeof metadata.token_endpoint !== 'string') {
          failures.push(`${url.pathname}: no token_endpoint`);
          continue;
        }
        return ['pass', `${url.href} answers; token_endpoint ${metadata.token_endpoint}`];
      } catch (error) {
        failures.push(`${url.pathname}: ${codeOf(error)}`);
      }
    }
    return [
      'fail',
      `no metadata at ${issuer} (${failures.join('; ')}): DiscoveryFailed; check spec.issuer or set spec.tokenEndpoint`,
    ];
  } finally {
    await dispatcher.close();
  }
}

function codeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    const code = (error as { code?: unknown }).code ?? cause?.code;
    if (typeof code === 'string') return code;
    return typeof cause?.message === 'string' ? cause.message : error.message;
  }
  return String(error);
}

const MARKS: Record<CheckResult, [string, 'green' | 'red' | 'orange' | 'dim']> = {
  pass: ['ok', 'green'],
  fail: ['FAIL', 'red'],
  warn: ['warn', 'orange'],
  skip: ['skip', 'dim'],
};

export function renderChecks(
  output: Output,
  connection: VaultConnection,
  items: readonly CheckItem[],
): string {
  const lines = [
    `Checking vaultconnection ${connection.metadata.namespace ?? ''}/${connection.metadata.name} (${connection.spec.type})`,
  ];
  const width = Math.max(...items.map((i) => i.check.length));
  for (const item of items) {
    const [mark, colour] = MARKS[item.result];
    const [first = '', ...rest] = item.detail.split('\n');
    lines.push(`  ${paint(output, colour, mark.padEnd(4))}  ${item.check.padEnd(width)}  ${first}`);
    for (const line of rest) lines.push(`        ${' '.repeat(width)}  ${line}`);
  }
  const failed = items.filter((i) => i.result === 'fail').length;
  lines.push(failed === 0 ? 'No check failed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return `${lines.join('\n')}\n`;
}
