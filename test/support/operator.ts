// coffre's operator, in-process, against the shared control plane: one per test, watching only the
// test's namespace (so tests run side by side), with logs captured in memory and its metrics registry
// at hand. The composition is the production one (createOperator); only flags differ. It authenticates
// as the chart's ServiceAccount (a TokenRequest token, the chart's RBAC), never as admin: a permission
// the chart lacks fails the test that needs it.
//
// With COFFRE_E2E_OPERATOR=external the operator already runs in the cluster (installed by the chart):
// nothing is started, and a test that needs its own operator flags (a CA, an SSRF allowlist, base URLs)
// is skipped, saying so.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, TestRunner } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { createOperator, type Operator } from '../../src/operator.ts';
import { operatorKubeConfig } from './cluster.ts';
import { isExternalOperator } from './e2e-mode.ts';

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
  if (isExternalOperator()) return useExternalOperator(options);
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
    kubeConfig: operatorKubeConfig(),
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

/** The operator the chart installed: nothing to start or stop; per-test flags cannot apply, so skip. */
function useExternalOperator(options: TestOperatorOptions): TestOperator {
  const perTest = [
    options.caPem === undefined ? '' : 'a CA for a local token endpoint',
    options.allowedCIDRs === undefined ? '' : 'its own SSRF allowlist',
    options.flags === undefined || options.flags.length === 0 ? '' : `flags ${options.flags.join(' ')}`,
  ].filter((need) => need !== '');
  if (perTest.length > 0) {
    const reason = `needs an operator started for this test (${perTest.join(', ')}); COFFRE_E2E_OPERATOR=external runs the one the chart installed`;
    const test = TestRunner.getCurrentTest();
    if (test === undefined) throw new Error(`startTestOperator outside a test: ${reason}`);
    test.context.skip(reason);
  }
  const unavailable = (what: string) => (): never => {
    throw new Error(`${what} is not available with COFFRE_E2E_OPERATOR=external`);
  };
  return {
    get operator(): Operator {
      return unavailable('the in-process operator')();
    },
    get config(): Config {
      return unavailable('the operator config')();
    },
    get metrics(): Metrics {
      return unavailable('the metrics registry')();
    },
    logs: unavailable('the operator log'),
    metricsText: unavailable('the metrics registry'),
    stop: () => Promise.resolve(),
  };
}
