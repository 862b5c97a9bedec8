// The composition root, and the only file with process side effects: configuration from flags and
// environment, the logger, metrics and health endpoints, the operator, and signal handling.
//
// A start that cannot work ends with one line on stderr that says what is wrong and what to do, and
// exit code 2 (a usage error, as getopt tools use it): never a stack trace, which tells a user nothing.
import { RecordKeyError } from './kube/record-key-secret.ts';
import { readFileSync } from 'node:fs';
import { systemClock } from './clock.ts';
import { helpText, loadConfig, type Config } from './config.ts';
import { slimKubeConfig } from './controller/kube-config.ts';
import { createKubeHttp } from './controller/kube-http.ts';
import { installSignalHandlers } from './controller/manager.ts';
import { serveHealth, serveMetrics, type Endpoint } from './observability/http-server.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { createOperator, type Operator } from './operator.ts';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const args = process.argv.slice(2);

if (args.includes('--version')) {
  process.stdout.write(`coffre ${version} (node ${process.version})\n`);
  process.exit(0);
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${helpText()}\n`);
  process.exit(0);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Ends a start that cannot work: one line on stderr, exit code 2, no stack trace. */
function startupFailed(message: string): never {
  process.stderr.write(`coffre: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(2);
}

let config: Config;
try {
  config = loadConfig(args, process.env);
} catch (error) {
  startupFailed(describe(error));
}

let logger: Logger;
try {
  logger = createLogger({ level: config.log.level, pretty: config.log.format === 'pretty' });
} catch (error) {
  startupFailed(`--log-format=${config.log.format}: ${describe(error)}`);
}

const KubeConfig = await slimKubeConfig();
const kubeConfig = new KubeConfig();
try {
  if (config.kubeconfig !== '') kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
} catch (error) {
  startupFailed(
    `cannot load a kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config): ${describe(error)}; for a local cluster with demo connections run \`npm run dev\``,
  );
}
const cluster = kubeConfig.getCurrentCluster();
if (cluster === null) {
  startupFailed(
    'no Kubernetes cluster configured: set KUBECONFIG or --kubeconfig, or run `npm run dev` for a local one',
  );
}

// Fail fast, with a pointer, when no cluster answers: informers would otherwise retry forever.
try {
  await createKubeHttp(kubeConfig).json('/version', { signal: AbortSignal.timeout(10_000) });
} catch (error) {
  startupFailed(
    `cannot reach the Kubernetes API server ${cluster.server} of the current kubeconfig context (${describe(error)}); for a local one with demo connections run \`npm run dev\``,
  );
}

const metrics = createMetrics(version);
let operator: Operator;
let metricsEndpoint: Endpoint | undefined;
let healthEndpoint: Endpoint | undefined;
try {
  operator = createOperator({
    kubeConfig,
    config,
    clock: systemClock,
    logger,
    metrics,
    onLeadershipLost: () => {
      logger.error('leadership lost: exiting so that a fresh process competes again');
      process.exit(1);
    },
  });
  if (config.metricsAddress.port >= 0) {
    metricsEndpoint = await serveMetrics(
      metrics.registry,
      config.metricsAddress.host,
      config.metricsAddress.port,
    );
  }
  if (config.healthAddress.port >= 0) {
    const manager = operator.manager;
    healthEndpoint = await serveHealth(
      () => manager.health(),
      config.healthAddress.host,
      config.healthAddress.port,
    );
  }
} catch (error) {
  // An unreadable --ca-file, a --metrics-port or --health-port in use: the message names the file or port.
  startupFailed(describe(error));
}
const endpoints = [metricsEndpoint, healthEndpoint].filter((e) => e !== undefined);

logger.info(
  {
    version,
    server: cluster.server,
    namespaces: config.watchNamespaces.length === 0 ? 'all' : config.watchNamespaces,
    leaderElection: config.leaderElection.enabled,
    leaderElectionNamespace: config.leaderElection.enabled ? config.leaderElection.namespace : undefined,
    identity: config.leaderElection.identity,
    metricsPort: metricsEndpoint?.port ?? 'off',
    healthPort: healthEndpoint?.port ?? 'off',
  },
  'coffre starting',
);

installSignalHandlers(
  {
    async stop() {
      await operator.stop();
      await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    },
  },
  {
    logger,
    exit: (code) => process.exit(code),
  },
);

try {
  await operator.start();
} catch (error) {
  // The record key's namespace or RBAC: the message names the Secret and the fix.
  if (error instanceof RecordKeyError) startupFailed(error.message);
  startupFailed(
    `cannot start against the Kubernetes API server ${cluster.server} (${describe(error)}); is the cluster up? (for a local one: npm run dev)`,
  );
}
