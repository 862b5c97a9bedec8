// Events on the real API server: what a new OAuthClient records (docs/operations.md), and an Event
// refused by a namespace being deleted, which is expected and logged at debug, not as a warning.
import { Writable } from 'node:stream';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { createKubeHttp } from '../../../src/controller/kube-http.ts';
import { createKubePort } from '../../../src/kube/kube-port.ts';
import { createEventRecorder } from '../../../src/observability/events.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { clusterKubeConfig, useTestNamespace } from '../../support/cluster.ts';
import { kube } from '../../support/kube.ts';
import { applyClient, startOAuthServer } from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

interface EventList {
  items: { reason: string; type: string; message: string; involvedObject: { kind: string } }[];
}

describe('events', () => {
  it('should record a single Ready Event for a new OAuthClient, none for Empty=False', async () => {
    const namespace = await useTestNamespace('client-events');
    const server = await startOAuthServer();
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server);
    const events = async () =>
      (await kube().json<EventList>(`/api/v1/namespaces/${namespace}/events`)).items
        .filter((e) => e.involvedObject.kind === 'OAuthClient')
        .map((e) => `${e.type} ${e.reason}`);
    await expect.poll(events, { timeout: 15_000 }).toEqual(['Normal ClientReady']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await events()).toEqual(['Normal ClientReady']);
  });

  it('should log at debug, not warn, when a namespace being deleted refuses an Event', async () => {
    const namespace = await useTestNamespace('terminating');
    const core = clusterKubeConfig().makeApiClient(CoreV1Api);
    // A finalizer holds the namespace in Terminating for as long as the test needs.
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'hold', finalizers: ['test.coffre.dev/hold'] } },
    });
    await core.deleteNamespace({ name: namespace });
    let text = '';
    const logger = createLogger({
      level: 'debug',
      pretty: false,
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text += chunk.toString();
          callback();
        },
      }),
    });
    const port = createKubePort(createKubeHttp(clusterKubeConfig()));
    const recorder = createEventRecorder(port, systemClock, logger, 'test');
    const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'hold', uid: 'u' };
    recorder.record(target, 'Normal', 'Test', 'twice');
    recorder.record(target, 'Normal', 'Test', 'twice');
    const refused = () => text.split('\n').filter((l) => l.includes('namespace is being deleted')).length;
    await expect.poll(refused).toBe(2);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug']);
    // An Event refused for another reason still warns.
    recorder.record({ ...target, namespace: 'Not_A_Namespace' }, 'Normal', 'Test', 'x');
    await expect.poll(() => text.includes('could not record event')).toBe(true);
    await core.patchNamespacedConfigMap({
      name: 'hold',
      namespace,
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
  });
});
