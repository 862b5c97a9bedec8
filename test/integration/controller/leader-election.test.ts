// Leader election on the real API server, as the chart's ServiceAccount (its leader-election Role): two
// candidates for one Lease; one leads, the other waits; a released Lease is taken over at once.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { LeaderElector, leaseClient } from '../../../src/controller/leader-election.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { RELEASE_NAMESPACE } from '../../support/chart.ts';
import { operatorKubeConfig } from '../../support/cluster.ts';
import { kube } from '../../support/kube.ts';

const electors: LeaderElector[] = [];

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

function candidate(leaseName: string, identity: string): { elector: LeaderElector; leading: () => boolean } {
  const logger = createLogger({
    level: 'warn',
    pretty: false,
    destination: new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    }),
  });
  const elector = new LeaderElector(leaseClient(operatorKubeConfig()), {
    namespace: RELEASE_NAMESPACE,
    leaseName,
    identity,
    leaseDurationMs: 4000,
    renewDeadlineMs: 3000,
    retryPeriodMs: 200,
    clock: systemClock,
    logger,
    random: Math.random,
  });
  let leading = false;
  elector.run({
    onStartedLeading: () => {
      leading = true;
    },
    onStoppedLeading: () => {
      leading = false;
    },
  });
  electors.push(elector);
  return { elector, leading: () => leading };
}

interface Lease {
  spec: { holderIdentity?: string; renewTime?: string; leaseTransitions?: number };
}

describe('leader election on the real API server', () => {
  it('elects one candidate, and hands over at once when the leader releases the Lease', async () => {
    const leaseName = `coffre-election-${randomBytes(4).toString('hex')}`;
    const lease = () =>
      kube().json<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NAMESPACE}/leases/${leaseName}`);
    const first = candidate(leaseName, 'first');
    await expect.poll(first.leading, { timeout: 5000 }).toBe(true);
    const second = candidate(leaseName, 'second');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(second.leading()).toBe(false);
    const held = await lease();
    expect(held.spec.holderIdentity).toBe('first');
    // MicroTime, as the API server requires it: six fractional digits.
    expect(held.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const released = Date.now();
    await first.elector.stop();
    // Well before the 4 s lease duration would have expired.
    await expect.poll(second.leading, { timeout: 2000, interval: 50 }).toBe(true);
    expect(Date.now() - released).toBeLessThan(2000);
    const taken = await lease();
    expect(taken.spec.holderIdentity).toBe('second');
    expect(taken.spec.leaseTransitions).toBe(1);
  });
});
