import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { resolveManagerOptions } from '../../../src/controller/options.ts';
import { defaults } from '../../../src/defaults.ts';
import { formatDuration, parseDuration } from '../../../src/duration.ts';
import { CoffreError } from '../../../src/errors.ts';
import { GUARDED_FETCH_DEFAULTS } from '../../../src/oauth/guarded-fetch.ts';
import { RATE_BUDGET_DEFAULTS } from '../../../src/oauth/rate-budget.ts';

describe('loadConfig defaults', () => {
  it('should resolve every default from the component it configures', () => {
    const config = loadConfig([], {});
    expect(config.workers).toBe(defaults.controller.workers);
    expect(config.leaderElection).toMatchObject({
      enabled: true,
      namespace: defaults.leaderElection.namespace,
      leaseName: defaults.leaderElection.leaseName,
      leaseDurationMs: defaults.leaderElection.leaseDurationMs,
      renewDeadlineMs: defaults.leaderElection.renewDeadlineMs,
      retryPeriodMs: defaults.leaderElection.retryPeriodMs,
    });
    expect(config.shutdownGraceMs).toBe(defaults.shutdownGraceMs);
    expect(config.stuckWorkerMs).toBe(defaults.stuckWorkerMs);
    expect(config.egress).toMatchObject({
      connectTimeoutMs: GUARDED_FETCH_DEFAULTS.connectTimeoutMs,
      totalTimeoutMs: GUARDED_FETCH_DEFAULTS.totalTimeoutMs,
      maxResponseBytes: GUARDED_FETCH_DEFAULTS.maxResponseBytes,
      allowHttp: GUARDED_FETCH_DEFAULTS.allowHttp,
    });
    expect(config.tokenRequests).toEqual({
      maxConcurrentPerHost: RATE_BUDGET_DEFAULTS.maxConcurrent,
      requestsPerSecondPerHost: RATE_BUDGET_DEFAULTS.ratePerSecond,
      burstPerHost: RATE_BUDGET_DEFAULTS.burst,
    });
    expect(config.providers).toEqual(defaults.providers);
  });

  it('should generate the identity as the runtime does: host name, underscore, 8 hex digits', () => {
    expect(loadConfig([], {}).leaderElection.identity).toMatch(/^.+_[0-9a-f]{8}$/);
    expect(loadConfig(['--leader-election-identity=pod-a'], {}).leaderElection.identity).toBe('pod-a');
  });
});

describe('loadConfig rules, the same as the runtime applies', () => {
  it.each<[string, string[], Record<string, string>, string]>([
    [
      'a renew deadline within 1.2 retry periods',
      ['--lease-retry-period=9s', '--lease-renew-deadline=10s'],
      {},
      '--lease-renew-deadline=10s must be greater than 1.2 × --lease-retry-period=9s',
    ],
    [
      'a lease no longer than its renew deadline',
      ['--lease-duration=10s'],
      {},
      '--lease-duration=10s must be greater than --lease-renew-deadline (default 10s)',
    ],
    ['no workers', ['--workers=0'], {}, '--workers=0 must be an integer from 1 to 256'],
    [
      'too many workers, from the environment',
      [],
      { COFFRE_WORKERS: '999' },
      'COFFRE_WORKERS=999 (--workers) must be an integer from 1 to 256',
    ],
    [
      'a malformed duration',
      ['--shutdown-grace=soon'],
      {},
      '--shutdown-grace=soon: expected a duration such as 500ms, 15s, 2m or 1h30m',
    ],
    ['an unknown flag', ['--wokers=2'], {}, 'unknown flag --wokers (coffre --help lists the flags)'],
  ])('should refuse %s in flag names', (_title, argv, env, message) => {
    let thrown: unknown;
    try {
      loadConfig(argv, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown instanceof CoffreError && thrown.code).toBe('invalid_config');
    expect((thrown as Error).message).toBe(message);
  });

  it('should refuse the lease timings the runtime refuses, and accept the ones it accepts', () => {
    const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 9_000 };
    expect(() =>
      resolveManagerOptions({ leaderElection: { namespace: 'n', leaseName: 'l', ...timings } }),
    ).toThrow('renewDeadlineMs (10000) must be greater than 1.2 × retryPeriodMs (9000)');
    expect(() => loadConfig(['--lease-retry-period=9s'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--lease-retry-period=8s'], {})).not.toThrow();
    expect(() =>
      resolveManagerOptions({
        leaderElection: { namespace: 'n', leaseName: 'l', ...timings, retryPeriodMs: 8_000 },
      }),
    ).not.toThrow();
  });

  it('should not check lease timings when leader election is off', () => {
    expect(() => loadConfig(['--leader-elect=false', '--lease-retry-period=9s'], {})).not.toThrow();
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
  ])('should parse %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', 's', '15x', '1m 30s', '-1s', '1h30'])('should refuse %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([0, 500, 2_000, 15_000, 120_000, 5_400_000, 3_601_500])(
    'should format %d ms so that it parses back',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );

  it('should format the shortest spelling', () => {
    expect([120_000, 20_000, 5_400_000, 500].map(formatDuration)).toEqual(['2m', '20s', '1h30m', '500ms']);
  });
});
