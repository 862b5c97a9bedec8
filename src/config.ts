// The operator's configuration: flags and environment variables to a typed, validated Config. Every
// option is declared once, in `options` below; its default comes from the component it configures
// (src/defaults.ts, the OAuth engine's constants), never written here a second time. Each section of
// Config is typed as that component's options, and the rules the runtime applies to programmatic
// options are the ones checked here, reported in flag names. The operations guide's configuration
// table and the Helm chart's values are checked against this table.
import { BlockList, isIP } from 'node:net';
import {
  checkLeaderElection,
  checkShutdown,
  checkWorkers,
  OptionChecks,
  type LeaderElectionInput,
} from './controller/options.ts';
import { defaultIdentity, defaults } from './defaults.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { CoffreError } from './errors.ts';
import { isDnsSubdomain } from './api/v1alpha1/schema-kit.ts';
import type { TokenEngineLimits } from './oauth/engine.ts';
import { GUARDED_FETCH_DEFAULTS, type GuardedFetchOptions } from './oauth/guarded-fetch.ts';
import { RATE_BUDGET_DEFAULTS } from './oauth/rate-budget.ts';
import type { ProvidersConfig } from './providers/provider.ts';

/** The manager's leader election (LeaderElectionInput), with every value resolved, and a switch. */
export type LeaderElectionConfig = { enabled: boolean } & Required<
  Pick<
    LeaderElectionInput,
    | 'namespace'
    | 'leaseName'
    | 'identity'
    | 'leaseDurationMs'
    | 'renewDeadlineMs'
    | 'retryPeriodMs'
    | 'missingNamespaceFix'
  >
>;

/** The guarded fetch's options (token endpoints); the CA comes as a file and is read at start. */
export type EgressConfig = Required<
  Pick<
    GuardedFetchOptions,
    'allowedCIDRs' | 'allowHttp' | 'connectTimeoutMs' | 'totalTimeoutMs' | 'maxResponseBytes'
  >
> & { caFile: string };

/** The token engine's per-host limits. */
export type TokenRequestsConfig = Pick<
  TokenEngineLimits,
  'maxConcurrentPerHost' | 'requestsPerSecondPerHost' | 'burstPerHost'
>;

export interface Config {
  /** Path of a kubeconfig; empty: in-cluster, then KUBECONFIG / ~/.kube/config. */
  kubeconfig: string;
  /** Namespaces to watch; empty: all namespaces. */
  watchNamespaces: string[];
  /** The controllers' `workers`. */
  workers: number;
  leaderElection: LeaderElectionConfig;
  metricsAddress: { host: string; port: number };
  healthAddress: { host: string; port: number };
  log: { level: string; format: 'json' | 'pretty' };
  egress: EgressConfig;
  tokenRequests: TokenRequestsConfig;
  providers: ProvidersConfig;
  /** The manager's shutdownGraceMs. */
  shutdownGraceMs: number;
  /** The manager's stuckWorkerMs: a worker busy on one reconcile for longer fails liveness. */
  stuckWorkerMs: number;
  /** Name of the record key Secret, in the operator's namespace (leaderElection.namespace). */
  recordKeySecret: string;
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
    default: defaults.watchNamespaces.join(','),
    description: 'Comma-separated namespaces to watch; empty: all namespaces.',
  },
  {
    path: 'workers',
    flag: '--workers',
    env: 'COFFRE_WORKERS',
    kind: 'integer',
    default: String(defaults.controller.workers),
    description: 'Concurrent reconciles per controller. One connection is never reconciled twice at once.',
  },
  {
    path: 'leaderElection.enabled',
    flag: '--leader-elect',
    env: 'COFFRE_LEADER_ELECT',
    kind: 'boolean',
    default: String(defaults.leaderElection.enabled),
    description: 'Elect a leader through a Lease so that only one replica acts.',
  },
  {
    path: 'leaderElection.namespace',
    flag: '--leader-election-namespace',
    env: 'POD_NAMESPACE',
    kind: 'string',
    default: defaults.leaderElection.namespace,
    description: 'Namespace of the leader-election Lease.',
  },
  {
    path: 'recordKeySecret',
    flag: '--record-key-secret',
    env: 'COFFRE_RECORD_KEY_SECRET',
    kind: 'string',
    default: defaults.recordKeySecret,
    description:
      "Secret in the operator's namespace (--leader-election-namespace, POD_NAMESPACE) holding the key coffre signs what it publishes with; created on first start.",
  },
  {
    path: 'leaderElection.leaseName',
    flag: '--leader-election-lease',
    env: 'COFFRE_LEASE_NAME',
    kind: 'string',
    default: defaults.leaderElection.leaseName,
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
    default: formatDuration(defaults.leaderElection.leaseDurationMs),
    description: 'How long a Lease is valid without renewal; a standby takes over after it.',
  },
  {
    path: 'leaderElection.renewDeadlineMs',
    flag: '--lease-renew-deadline',
    env: 'COFFRE_LEASE_RENEW_DEADLINE',
    kind: 'duration',
    default: formatDuration(defaults.leaderElection.renewDeadlineMs),
    description: 'The leader stops acting when it could not renew for this long.',
  },
  {
    path: 'leaderElection.retryPeriodMs',
    flag: '--lease-retry-period',
    env: 'COFFRE_LEASE_RETRY_PERIOD',
    kind: 'duration',
    default: formatDuration(defaults.leaderElection.retryPeriodMs),
    description: 'Interval between Lease renewals and acquisition attempts.',
  },
  {
    path: 'metricsAddress.host',
    flag: '--metrics-host',
    env: 'COFFRE_METRICS_HOST',
    kind: 'string',
    default: defaults.metrics.host,
    description: 'Address the Prometheus metrics endpoint binds to.',
  },
  {
    path: 'metricsAddress.port',
    flag: '--metrics-port',
    env: 'COFFRE_METRICS_PORT',
    kind: 'integer',
    default: String(defaults.metrics.port),
    description: 'Port of /metrics; 0 picks a free port, -1 disables.',
  },
  {
    path: 'healthAddress.host',
    flag: '--health-host',
    env: 'COFFRE_HEALTH_HOST',
    kind: 'string',
    default: defaults.health.host,
    description: 'Address the health endpoints bind to.',
  },
  {
    path: 'healthAddress.port',
    flag: '--health-port',
    env: 'COFFRE_HEALTH_PORT',
    kind: 'integer',
    default: String(defaults.health.port),
    description: 'Port of /healthz and /readyz; 0 picks a free port, -1 disables.',
  },
  {
    path: 'log.level',
    flag: '--log-level',
    env: 'COFFRE_LOG_LEVEL',
    kind: 'string',
    default: defaults.log.level,
    description: 'trace, debug, info, warn, error or fatal.',
  },
  {
    path: 'log.format',
    flag: '--log-format',
    env: 'COFFRE_LOG_FORMAT',
    kind: 'string',
    default: defaults.log.format,
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
    default: String(GUARDED_FETCH_DEFAULTS.allowHttp),
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
    default: formatDuration(GUARDED_FETCH_DEFAULTS.connectTimeoutMs),
    description: 'Connection timeout for token endpoints.',
  },
  {
    path: 'egress.totalTimeoutMs',
    flag: '--request-timeout',
    env: 'COFFRE_REQUEST_TIMEOUT',
    kind: 'duration',
    default: formatDuration(GUARDED_FETCH_DEFAULTS.totalTimeoutMs),
    description: 'Total timeout of one token-endpoint request, body included.',
  },
  {
    path: 'egress.maxResponseBytes',
    flag: '--max-response-bytes',
    env: 'COFFRE_MAX_RESPONSE_BYTES',
    kind: 'bytes',
    default: String(GUARDED_FETCH_DEFAULTS.maxResponseBytes),
    description: 'Largest token-endpoint response read; larger ones are refused.',
  },
  {
    path: 'tokenRequests.maxConcurrentPerHost',
    flag: '--token-host-concurrency',
    env: 'COFFRE_TOKEN_HOST_CONCURRENCY',
    kind: 'integer',
    default: String(RATE_BUDGET_DEFAULTS.maxConcurrent),
    description: 'Token requests in flight per endpoint host.',
  },
  {
    path: 'tokenRequests.requestsPerSecondPerHost',
    flag: '--token-host-rate',
    env: 'COFFRE_TOKEN_HOST_RATE',
    kind: 'integer',
    default: String(RATE_BUDGET_DEFAULTS.ratePerSecond),
    description: 'Sustained token requests per second per endpoint host; slowed further by 429 answers.',
  },
  {
    path: 'tokenRequests.burstPerHost',
    flag: '--token-host-burst',
    env: 'COFFRE_TOKEN_HOST_BURST',
    kind: 'integer',
    default: String(RATE_BUDGET_DEFAULTS.burst),
    description: 'Burst of token requests per endpoint host.',
  },
  {
    path: 'providers.slackApiBaseUrl',
    flag: '--slack-api-base-url',
    env: 'COFFRE_SLACK_API_BASE_URL',
    kind: 'string',
    default: defaults.providers.slackApiBaseUrl,
    description: 'Base URL of the Slack Web API (oauth.v2.access is under it).',
  },
  {
    path: 'providers.shopifyBaseUrl',
    flag: '--shopify-base-url',
    env: 'COFFRE_SHOPIFY_BASE_URL',
    kind: 'string',
    default: defaults.providers.shopifyBaseUrl,
    description: 'Base URL of a shop; {shop} is replaced by spec.shopify.shopDomain.',
  },
  {
    path: 'providers.zendeskBaseUrl',
    flag: '--zendesk-base-url',
    env: 'COFFRE_ZENDESK_BASE_URL',
    kind: 'string',
    default: defaults.providers.zendeskBaseUrl,
    description:
      'Base URL of a Zendesk account (/oauth/tokens is under it); {subdomain} is replaced by spec.zendesk.subdomain.',
  },
  {
    path: 'providers.twilioOAuthBaseUrl',
    flag: '--twilio-oauth-base-url',
    env: 'COFFRE_TWILIO_OAUTH_BASE_URL',
    kind: 'string',
    default: defaults.providers.twilioOAuthBaseUrl,
    description: 'Base URL of the Twilio OAuth service (/v2/token is under it).',
  },
  {
    path: 'shutdownGraceMs',
    flag: '--shutdown-grace',
    env: 'COFFRE_SHUTDOWN_GRACE',
    kind: 'duration',
    default: formatDuration(defaults.shutdownGraceMs),
    description: 'On SIGTERM, how long in-flight reconciles may take before they are aborted.',
  },
  {
    path: 'stuckWorkerMs',
    flag: '--stuck-worker-after',
    env: 'COFFRE_STUCK_WORKER_AFTER',
    kind: 'duration',
    default: formatDuration(defaults.stuckWorkerMs),
    description: 'Liveness fails when one reconcile has run longer than this.',
  },
];

export const INVALID_CONFIG = 'invalid_config';

/** A flag or environment variable the operator cannot start with; the message names it and says why. */
export class ConfigError extends CoffreError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(INVALID_CONFIG, message, { retryable: false, ...options });
  }
}

/** Where a value came from, spelled as the person wrote it: `--workers=0` or `COFFRE_WORKERS=0`. */
interface RawValue {
  text: string;
  from: 'flag' | 'env' | 'default';
}

function spell(option: OptionSpec, raw: RawValue): string {
  if (raw.from === 'env') return `${option.env}=${raw.text} (${option.flag})`;
  if (raw.from === 'default') return `${option.flag} (default ${raw.text === '' ? 'empty' : raw.text})`;
  return `${option.flag}=${raw.text}`;
}

function parseValue(option: OptionSpec, raw: RawValue): unknown {
  const text = raw.text;
  const fail = (why: string) => new ConfigError(`${spell(option, raw)}: ${why}`);
  switch (option.kind) {
    case 'string':
      return text;
    case 'integer': {
      if (!/^-?[0-9]+$/.test(text)) throw fail('expected an integer');
      return Number(text);
    }
    case 'bytes': {
      if (!/^[0-9]+$/.test(text) || Number(text) < 1024)
        throw fail('expected a number of bytes (at least 1024)');
      return Number(text);
    }
    case 'boolean': {
      if (['true', '1', 'yes', ''].includes(text)) return true;
      if (['false', '0', 'no'].includes(text)) return false;
      throw fail('expected true or false');
    }
    case 'duration': {
      const ms = parseDuration(text);
      if (ms === undefined) throw fail('expected a duration such as 500ms, 15s, 2m or 1h30m');
      return ms;
    }
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'cidrs': {
      const cidrs = text
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

function optionAt(path: string): OptionSpec {
  const option = options.find((o) => o.path === path);
  if (option === undefined) throw new Error(`no option at ${path}`);
  return option;
}

/** The fix for a Lease namespace that does not exist, in this operator's own flag names. */
function missingNamespaceFix(namespace: string): string {
  const namespaceFlag = optionAt('leaderElection.namespace');
  const enabledFlag = optionAt('leaderElection.enabled');
  return (
    `kubectl create namespace ${namespace}, or ${namespaceFlag.flag}=<an existing namespace> ` +
    `(${namespaceFlag.env}), or ${enabledFlag.flag}=false when only this replica runs`
  );
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
    if (option === undefined) throw new ConfigError(`unknown flag ${flag} (coffre --help lists the flags)`);
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
  const raws = new Map<string, RawValue>();
  for (const option of options) {
    const flag = fromFlags.get(option.flag);
    const variable = env[option.env];
    const raw: RawValue =
      flag !== undefined
        ? { text: flag, from: 'flag' }
        : variable !== undefined
          ? { text: variable, from: 'env' }
          : { text: option.default, from: 'default' };
    raws.set(option.path, raw);
    setPath(config, option.path, parseValue(option, raw));
  }
  const resolved = config as unknown as Config;
  const le = resolved.leaderElection;
  if (le.identity === '') le.identity = defaultIdentity();
  le.missingNamespaceFix = missingNamespaceFix(le.namespace);
  validate(resolved, (path) => {
    const option = optionAt(path);
    return spell(option, raws.get(path) ?? { text: option.default, from: 'default' });
  });
  return resolved;
}

/** The runtime's own rules (controller/options.ts) and the operator's, reported in flag names. */
function validate(config: Config, flagName: (path: string) => string): void {
  const check = new OptionChecks((path) => flagName(path));
  checkWorkers(check, config.workers);
  checkShutdown(check, config);
  if (config.leaderElection.enabled)
    checkLeaderElection(check.within('leaderElection'), config.leaderElection);
  check.require(
    ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(config.log.level),
    (name) => `${name('log.level', config.log.level)} must be one of trace, debug, info, warn, error, fatal`,
  );
  check.require(
    (['json', 'pretty'] as string[]).includes(config.log.format),
    (name) => `${name('log.format', config.log.format)} must be json or pretty`,
  );
  for (const path of ['metricsAddress.port', 'healthAddress.port']) {
    const port = path === 'metricsAddress.port' ? config.metricsAddress.port : config.healthAddress.port;
    check.require(
      port >= -1 && port <= 65535,
      (name) => `${name(path, port)} must be -1 (off), 0 (any) or a port number`,
    );
  }
  for (const [path, url] of [
    ['providers.slackApiBaseUrl', config.providers.slackApiBaseUrl],
    ['providers.shopifyBaseUrl', config.providers.shopifyBaseUrl.replace('{shop}', 'shop.example.com')],
    ['providers.zendeskBaseUrl', config.providers.zendeskBaseUrl.replace('{subdomain}', 'acme')],
    ['providers.twilioOAuthBaseUrl', config.providers.twilioOAuthBaseUrl],
  ] as const) {
    check.require(URL.canParse(url), (name) => `${name(path, url)} must be a URL`);
  }
  check.require(
    isDnsSubdomain(config.recordKeySecret),
    (name) => `${name('recordKeySecret', config.recordKeySecret)} must be a Secret name (a DNS subdomain)`,
  );
  check.positive('egress.connectTimeoutMs', config.egress.connectTimeoutMs);
  check.positive('egress.totalTimeoutMs', config.egress.totalTimeoutMs);
  const limits = check.within('tokenRequests');
  limits.positive('maxConcurrentPerHost', config.tokenRequests.maxConcurrentPerHost);
  limits.positive('requestsPerSecondPerHost', config.tokenRequests.requestsPerSecondPerHost);
  limits.positive('burstPerHost', config.tokenRequests.burstPerHost);
  if (check.problems.length > 0) throw new ConfigError(check.problems.join('; '));
}

export function helpText(): string {
  const lines = ['Usage: coffre [flags]', '', 'Every flag can also be set by its environment variable.', ''];
  for (const option of options) {
    lines.push(`  ${option.flag} (${option.env}, default ${JSON.stringify(option.default)})`);
    lines.push(`      ${option.description}`);
  }
  return lines.join('\n');
}
