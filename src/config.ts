// The operator's configuration: flags and environment variables to a typed, validated Config. Every
// option and its default is declared once, in `options` below; the operations guide's configuration
// table and the Helm chart's values are checked against it.
import { BlockList, isIP } from 'node:net';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface Config {
  /** Path of a kubeconfig; empty: in-cluster, then KUBECONFIG / ~/.kube/config. */
  kubeconfig: string;
  /** Namespaces to watch; empty: all namespaces. */
  watchNamespaces: string[];
  workers: number;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    leaseName: string;
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  metricsAddress: { host: string; port: number };
  healthAddress: { host: string; port: number };
  log: { level: string; format: 'json' | 'pretty' };
  egress: {
    allowedCIDRs: string[];
    allowHttp: boolean;
    caFile: string;
    connectTimeoutMs: number;
    totalTimeoutMs: number;
    maxResponseBytes: number;
  };
  tokenRequests: {
    perHostConcurrency: number;
    perHostRatePerSecond: number;
    perHostBurst: number;
  };
  providers: {
    slackApiBaseUrl: string;
    /** `{shop}` is replaced by the shop domain. */
    shopifyBaseUrl: string;
  };
  shutdownGraceMs: number;
  /** A worker busy on one reconcile for longer than this fails liveness. */
  stuckWorkerMs: number;
}

type Kind = 'string' | 'integer' | 'boolean' | 'list' | 'duration' | 'cidrs' | 'bytes';

export interface OptionSpec {
  /** Dotted path in Config. */
  path: string;
  flag: string;
  env: string;
  kind: Kind;
  default: string;
  description: string;
}

/** Every option, its flag, environment variable and default (as a string, parsed like user input). */
export const options: readonly OptionSpec[] = [
  {
    path: 'kubeconfig',
    flag: '--kubeconfig',
    env: 'KUBECONFIG',
    kind: 'string',
    default: '',
    description: 'Kubeconfig file; empty: in-cluster configuration, then ~/.kube/config.',
  },
  {
    path: 'watchNamespaces',
    flag: '--watch-namespaces',
    env: 'COFFRE_WATCH_NAMESPACES',
    kind: 'list',
    default: '',
    description: 'Comma-separated namespaces to watch; empty: all namespaces.',
  },
  {
    path: 'workers',
    flag: '--workers',
    env: 'COFFRE_WORKERS',
    kind: 'integer',
    default: '8',
    description: 'Concurrent reconciles per controller. One connection is never reconciled twice at once.',
  },
  {
    path: 'leaderElection.enabled',
    flag: '--leader-elect',
    env: 'COFFRE_LEADER_ELECT',
    kind: 'boolean',
    default: 'true',
    description: 'Elect a leader through a Lease so that only one replica acts.',
  },
  {
    path: 'leaderElection.namespace',
    flag: '--leader-election-namespace',
    env: 'POD_NAMESPACE',
    kind: 'string',
    default: 'coffre-system',
    description: 'Namespace of the leader-election Lease.',
  },
  {
    path: 'leaderElection.leaseName',
    flag: '--leader-election-lease',
    env: 'COFFRE_LEASE_NAME',
    kind: 'string',
    default: 'coffre-leader',
    description: 'Name of the leader-election Lease.',
  },
  {
    path: 'leaderElection.identity',
    flag: '--leader-election-identity',
    env: 'POD_NAME',
    kind: 'string',
    default: '',
    description: 'Identity in the Lease; empty: host name and a random suffix.',
  },
  {
    path: 'leaderElection.leaseDurationMs',
    flag: '--lease-duration',
    env: 'COFFRE_LEASE_DURATION',
    kind: 'duration',
    default: '15s',
    description: 'How long a Lease is valid without renewal; a standby takes over after it.',
  },
  {
    path: 'leaderElection.renewDeadlineMs',
    flag: '--lease-renew-deadline',
    env: 'COFFRE_LEASE_RENEW_DEADLINE',
    kind: 'duration',
    default: '10s',
    description: 'The leader stops acting when it could not renew for this long.',
  },
  {
    path: 'leaderElection.retryPeriodMs',
    flag: '--lease-retry-period',
    env: 'COFFRE_LEASE_RETRY_PERIOD',
    kind: 'duration',
    default: '2s',
    description: 'Interval between Lease renewals and acquisition attempts.',
  },
  {
    path: 'metricsAddress.host',
    flag: '--metrics-host',
    env: 'COFFRE_METRICS_HOST',
    kind: 'string',
    default: '0.0.0.0',
    description: 'Address the Prometheus metrics endpoint binds to.',
  },
  {
    path: 'metricsAddress.port',
    flag: '--metrics-port',
    env: 'COFFRE_METRICS_PORT',
    kind: 'integer',
    default: '8080',
    description: 'Port of /metrics; 0 picks a free port, -1 disables.',
  },
  {
    path: 'healthAddress.host',
    flag: '--health-host',
    env: 'COFFRE_HEALTH_HOST',
    kind: 'string',
    default: '0.0.0.0',
    description: 'Address the health endpoints bind to.',
  },
  {
    path: 'healthAddress.port',
    flag: '--health-port',
    env: 'COFFRE_HEALTH_PORT',
    kind: 'integer',
    default: '8081',
    description: 'Port of /healthz and /readyz; 0 picks a free port, -1 disables.',
  },
  {
    path: 'log.level',
    flag: '--log-level',
    env: 'COFFRE_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    description: 'trace, debug, info, warn, error or fatal.',
  },
  {
    path: 'log.format',
    flag: '--log-format',
    env: 'COFFRE_LOG_FORMAT',
    kind: 'string',
    default: 'json',
    description:
      'json (one object per line) or pretty (local development only: needs the pino-pretty devDependency, absent from the container image).',
  },
  {
    path: 'egress.allowedCIDRs',
    flag: '--allowed-cidrs',
    env: 'COFFRE_ALLOWED_CIDRS',
    kind: 'cidrs',
    default: '',
    description:
      'Address ranges that token endpoints may resolve to although they are loopback, private, link-local or metadata addresses (SSRF guard allowlist), e.g. 10.20.0.0/16 for an in-cluster Keycloak.',
  },
  {
    path: 'egress.allowHttp',
    flag: '--insecure-allow-http',
    env: 'COFFRE_INSECURE_ALLOW_HTTP',
    kind: 'boolean',
    default: 'false',
    description:
      'Allow plain-http endpoints found through discovery. Local development only; the CRDs require https in spec.',
  },
  {
    path: 'egress.caFile',
    flag: '--ca-file',
    env: 'COFFRE_CA_FILE',
    kind: 'string',
    default: '',
    description:
      'PEM bundle of extra certificate authorities trusted for token endpoints (besides the system roots).',
  },
  {
    path: 'egress.connectTimeoutMs',
    flag: '--connect-timeout',
    env: 'COFFRE_CONNECT_TIMEOUT',
    kind: 'duration',
    default: '5s',
    description: 'Connection timeout for token endpoints.',
  },
  {
    path: 'egress.totalTimeoutMs',
    flag: '--request-timeout',
    env: 'COFFRE_REQUEST_TIMEOUT',
    kind: 'duration',
    default: '15s',
    description: 'Total timeout of one token-endpoint request, body included.',
  },
  {
    path: 'egress.maxResponseBytes',
    flag: '--max-response-bytes',
    env: 'COFFRE_MAX_RESPONSE_BYTES',
    kind: 'bytes',
    default: '1048576',
    description: 'Largest token-endpoint response read; larger ones are refused.',
  },
  {
    path: 'tokenRequests.perHostConcurrency',
    flag: '--token-host-concurrency',
    env: 'COFFRE_TOKEN_HOST_CONCURRENCY',
    kind: 'integer',
    default: '4',
    description: 'Token requests in flight per endpoint host.',
  },
  {
    path: 'tokenRequests.perHostRatePerSecond',
    flag: '--token-host-rate',
    env: 'COFFRE_TOKEN_HOST_RATE',
    kind: 'integer',
    default: '10',
    description: 'Sustained token requests per second per endpoint host; slowed further by 429 answers.',
  },
  {
    path: 'tokenRequests.perHostBurst',
    flag: '--token-host-burst',
    env: 'COFFRE_TOKEN_HOST_BURST',
    kind: 'integer',
    default: '20',
    description: 'Burst of token requests per endpoint host.',
  },
  {
    path: 'providers.slackApiBaseUrl',
    flag: '--slack-api-base-url',
    env: 'COFFRE_SLACK_API_BASE_URL',
    kind: 'string',
    default: 'https://slack.com/api',
    description: 'Base URL of the Slack Web API (oauth.v2.access is under it).',
  },
  {
    path: 'providers.shopifyBaseUrl',
    flag: '--shopify-base-url',
    env: 'COFFRE_SHOPIFY_BASE_URL',
    kind: 'string',
    default: 'https://{shop}',
    description: 'Base URL of a shop; {shop} is replaced by spec.shopify.shopDomain.',
  },
  {
    path: 'shutdownGraceMs',
    flag: '--shutdown-grace',
    env: 'COFFRE_SHUTDOWN_GRACE',
    kind: 'duration',
    default: '20s',
    description: 'On SIGTERM, how long in-flight reconciles may take before they are aborted.',
  },
  {
    path: 'stuckWorkerMs',
    flag: '--stuck-worker-after',
    env: 'COFFRE_STUCK_WORKER_AFTER',
    kind: 'duration',
    default: '2m',
    description: 'Liveness fails when one reconcile has run longer than this.',
  },
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseValue(option: OptionSpec, raw: string): unknown {
  const fail = (why: string) =>
    new ConfigError(`${option.flag} (${option.env}): ${why}, got ${JSON.stringify(raw)}`);
  switch (option.kind) {
    case 'string':
      return raw;
    case 'integer': {
      if (!/^-?[0-9]+$/.test(raw)) throw fail('expected an integer');
      return Number(raw);
    }
    case 'bytes': {
      if (!/^[0-9]+$/.test(raw) || Number(raw) < 1024)
        throw fail('expected a number of bytes (at least 1024)');
      return Number(raw);
    }
    case 'boolean': {
      if (['true', '1', 'yes', ''].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw fail('expected true or false');
    }
    case 'duration': {
      const match = DURATION.exec(raw);
      if (match === null) throw fail('expected a duration such as 500ms, 15s, 2m');
      return Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
    }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'cidrs': {
      const cidrs = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      for (const cidr of cidrs) {
        const [address, prefix] = cidr.split('/');
        const family = isIP(address ?? '');
        const bits = Number(prefix);
        if (
          family === 0 ||
          prefix === undefined ||
          !Number.isInteger(bits) ||
          bits < 0 ||
          bits > (family === 4 ? 32 : 128)
        ) {
          throw fail(`${JSON.stringify(cidr)} is not a CIDR such as 10.0.0.0/8 or 127.0.0.1/32`);
        }
        new BlockList().addSubnet(address ?? '', bits, family === 4 ? 'ipv4' : 'ipv6');
      }
      return cidrs;
    }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] ?? path] = value;
}

/**
 * Resolves the configuration: a flag wins over its environment variable, which wins over the default.
 * Flags are `--name=value` or `--name value`; a boolean flag alone means true.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const byFlag = new Map(options.map((o) => [o.flag, o]));
  const fromFlags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const option = byFlag.get(flag);
    if (option === undefined) throw new ConfigError(`unknown flag ${flag} (see --help)`);
    if (inline !== undefined) fromFlags.set(flag, inline);
    else if (option.kind === 'boolean' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--'))) {
      fromFlags.set(flag, 'true');
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`${flag} needs a value`);
      fromFlags.set(flag, next);
      i++;
    }
  }
  const config: Record<string, unknown> = {};
  for (const option of options) {
    const raw = fromFlags.get(option.flag) ?? env[option.env] ?? option.default;
    setPath(config, option.path, parseValue(option, raw));
  }
  const resolved = config as unknown as Config;
  if (resolved.leaderElection.identity === '') {
    resolved.leaderElection.identity = `${hostname()}-${randomBytes(4).toString('hex')}`;
  }
  validate(resolved);
  return resolved;
}

function validate(config: Config): void {
  const problems: string[] = [];
  if (config.workers < 1 || config.workers > 256) problems.push('--workers must be between 1 and 256');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(config.log.level)) {
    problems.push('--log-level must be one of trace, debug, info, warn, error, fatal');
  }
  if (!(['json', 'pretty'] as string[]).includes(config.log.format))
    problems.push('--log-format must be json or pretty');
  const le = config.leaderElection;
  if (le.enabled && !(le.retryPeriodMs < le.renewDeadlineMs && le.renewDeadlineMs < le.leaseDurationMs)) {
    problems.push('leader election needs retry period < renew deadline < lease duration');
  }
  for (const [name, port] of [
    ['--metrics-port', config.metricsAddress.port],
    ['--health-port', config.healthAddress.port],
  ] as const) {
    if (port < -1 || port > 65535) problems.push(`${name} must be -1 (off), 0 (any) or a port number`);
  }
  for (const [name, url] of [
    ['--slack-api-base-url', config.providers.slackApiBaseUrl],
    ['--shopify-base-url', config.providers.shopifyBaseUrl.replace('{shop}', 'shop.example.com')],
  ] as const) {
    if (!URL.canParse(url)) problems.push(`${name} must be a URL`);
  }
  for (const [name, value] of [
    ['--token-host-concurrency', config.tokenRequests.perHostConcurrency],
    ['--token-host-rate', config.tokenRequests.perHostRatePerSecond],
    ['--token-host-burst', config.tokenRequests.perHostBurst],
  ] as const) {
    if (value < 1) problems.push(`${name} must be at least 1`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
}

export function helpText(): string {
  const lines = ['Usage: coffre [flags]', '', 'Every flag can also be set by its environment variable.', ''];
  for (const option of options) {
    lines.push(`  ${option.flag} (${option.env}, default ${JSON.stringify(option.default)})`);
    lines.push(`      ${option.description}`);
  }
  return lines.join('\n');
}
