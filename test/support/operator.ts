// coffre's operator, in-process, against the shared control plane: one per test, watching only the
// test's namespace (so tests run side by side), with logs captured in memory and its metrics registry
// at hand. The composition is the production one (createOperator); only flags differ.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { createOperator, type Operator } from '../../src/operator.ts';
import { clusterKubeConfig } from './cluster.ts';

export interface TestOperator {
  operator: Operator;
  config: Config;
  metrics: Metrics;
  /** Every log line so far, as written (JSON). */
  logs(): string;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

export interface TestOperatorOptions {
  namespace: string;
  /** PEM of a CA to trust for token endpoints (a local OAuth server's). */
  caPem?: string;
  /** Default: 127.0.0.1/32, so local servers are reachable. Pass [] to test the SSRF guard. */
  allowedCIDRs?: string[];
  /** Extra flags, e.g. `--slack-api-base-url=...`. */
  flags?: string[];
}

const running = new Set<TestOperator>();
let cleanupRegistered = false;

export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterEach(async () => {
      await Promise.all([...running].map((o) => o.stop()));
    });
  }
  const flags = [
    `--watch-namespaces=${options.namespace}`,
    '--leader-elect=false',
    '--metrics-port=-1',
    '--health-port=-1',
    '--log-level=debug',
    '--workers=4',
    `--allowed-cidrs=${(options.allowedCIDRs ?? ['127.0.0.1/32']).join(',')}`,
    ...(options.flags ?? []),
  ];
  if (options.caPem !== undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'coffre-test-ca-'));
    await writeFile(join(dir, 'ca.pem'), options.caPem);
    flags.push(`--ca-file=${join(dir, 'ca.pem')}`);
  }
  const config = loadConfig(flags, {});
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger({ level: config.log.level, pretty: false, destination });
  const metrics = createMetrics('test');
  const operator = createOperator({
    kubeConfig: clusterKubeConfig(),
    config,
    clock: systemClock,
    logger,
    metrics,
  });
  let stopped: Promise<void> | undefined;
  const handle: TestOperator = {
    operator,
    config,
    metrics,
    logs: () => text,
    metricsText: () => metrics.registry.metrics(),
    stop() {
      stopped ??= operator.stop().finally(() => running.delete(handle));
      return stopped;
    },
  };
  running.add(handle);
  await operator.start();
  return handle;
}
