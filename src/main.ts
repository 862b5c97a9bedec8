// The composition root, and the only file with process side effects: configuration from flags and
// environment, the logger, metrics and health endpoints, the operator, and signal handling.
import { readFileSync } from 'node:fs';
import { systemClock } from './clock.ts';
import { ConfigError, helpText, loadConfig, type Config } from './config.ts';
import { slimKubeConfig } from './controller/kube-config.ts';
import { createKubeHttp } from './controller/kube-http.ts';
import { installSignalHandlers } from './controller/manager.ts';
import { serveHealth, serveMetrics, type Endpoint } from './observability/http-server.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { createOperator } from './operator.ts';

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

let config: Config;
try {
  config = loadConfig(args, process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`coffre: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const logger = createLogger({ level: config.log.level, pretty: config.log.format === 'pretty' });
const KubeConfig = await slimKubeConfig();
const kubeConfig = new KubeConfig();
try {
  if (config.kubeconfig !== '') kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
} catch (error) {
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'cannot load a kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config); for a local cluster with demo connections run `npm run dev`',
  );
  process.exit(2);
}
const cluster = kubeConfig.getCurrentCluster();
if (cluster === null) {
  logger.fatal(
    'no Kubernetes cluster configured: set KUBECONFIG or --kubeconfig, or run `npm run dev` for a local one',
  );
  process.exit(2);
}

// Fail fast, with a pointer, when no cluster answers: informers would otherwise retry forever.
try {
  await createKubeHttp(kubeConfig).json('/version', { signal: AbortSignal.timeout(10_000) });
} catch (error) {
  logger.fatal(
    { server: cluster.server, err: error instanceof Error ? error.message : String(error) },
    'cannot reach the Kubernetes API server of the current kubeconfig context; for a local one with demo connections run `npm run dev`',
  );
  process.exit(1);
}

const metrics = createMetrics(version);
const operator = createOperator({
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

const endpoints: Endpoint[] = [];
if (config.metricsAddress.port >= 0) {
  endpoints.push(
    await serveMetrics(metrics.registry, config.metricsAddress.host, config.metricsAddress.port),
  );
}
if (config.healthAddress.port >= 0) {
  endpoints.push(
    await serveHealth(() => operator.manager.health(), config.healthAddress.host, config.healthAddress.port),
  );
}
logger.info(
  {
    version,
    server: cluster.server,
    namespaces: config.watchNamespaces.length === 0 ? 'all' : config.watchNamespaces,
    leaderElection: config.leaderElection.enabled,
    identity: config.leaderElection.identity,
    metricsPort: config.metricsAddress.port >= 0 ? endpoints[0]?.port : 'off',
    healthPort: endpoints[endpoints.length - 1]?.port,
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
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal(
    { err: message, server: cluster.server },
    'cannot reach the Kubernetes API server; is the cluster up? (for a local one: npm run dev)',
  );
  process.exit(1);
}
