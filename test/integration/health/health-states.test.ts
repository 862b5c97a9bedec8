// Every state of docs/gitops.md#health on the real API server, with the operator and real OAuth
// servers: the objects the API server returns are given to the real kstatus (sigs.k8s.io/cli-utils
// status.Compute) and to the Argo CD health check of the chart, run in the Lua VM Argo CD embeds
// (tools/health-check), and both answers are compared with the table.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { useTestNamespace } from '../../support/cluster.ts';
import { healthStates, type HealthState } from '../../support/health-states.ts';
import { apply, kube } from '../../support/kube.ts';
import {
  AUDIENCE,
  applyClient,
  applyTokenConnection,
  startOAuthServer,
} from '../../support/oauth-fixtures.ts';
import { startTestOperator } from '../../support/operator.ts';

const LUA = join(import.meta.dirname, '../../../charts/coffre/files/argocd-health.lua');
/** Argo CD's layout for a health check's tests: health_test.yaml and the objects in testdata/. */
const FIXTURES = join(import.meta.dirname, '../../fixtures/argocd-health');
const API = '/apis/coffre.dev/v1alpha1/namespaces';

type Object = {
  kind: string;
  metadata: { name: string; resourceVersion?: string; generation?: number };
  status?: { conditions?: { type: string; status: string; reason: string }[]; failedAttempts?: number };
};

async function get(namespace: string, plural: string, name: string): Promise<Object> {
  return kube().json<Object>(`${API}/${namespace}/${plural}/${name}`);
}

async function mergePatch(namespace: string, name: string, patch: object): Promise<void> {
  await kube().json(`${API}/${namespace}/vaultconnections/${name}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify(patch),
  });
}

/** Polls the connection until `check` holds, and returns it as the API server has it then. */
async function until(namespace: string, name: string, check: (c: Object) => boolean): Promise<Object> {
  let last: Object | undefined;
  await expect
    .poll(
      async () => {
        last = await get(namespace, 'vaultconnections', name);
        return check(last);
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  if (last === undefined) throw new Error('unreachable');
  return last;
}

function cell(object: Object, type: string): string {
  const c = object.status?.conditions?.find((x) => x.type === type);
  return c === undefined ? '—' : `${c.status} ${c.reason}`;
}

function has(type: string, value: string): (o: Object) => boolean {
  return (o) => cell(o, type) === value;
}

function run(args: string[], objects: Object[]): { status?: string; message?: string; error?: string }[] {
  const out = execFileSync(inject('healthCheck'), args, { input: JSON.stringify(objects) });
  return JSON.parse(out.toString()) as { status?: string; message?: string; error?: string }[];
}

describe('health as kstatus and Argo CD compute it', () => {
  it('should match docs/gitops.md in every state', { timeout: 180_000 }, async () => {
    const namespace = await useTestNamespace('health');
    const unwatched = await useTestNamespace('health-unwatched');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    const short = await startOAuthServer({ accessTokenTtlSeconds: 3 });
    const operator = await startTestOperator({ namespace, caPem: `${server.caPem}\n${short.caPem}` });
    await applyClient(namespace, server, 'local');
    await applyClient(namespace, short, 'short');
    await applyClient(namespace, server, 'wrong', 'not-the-client-secret');
    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'OAuthClient',
      metadata: { name: 'waiting' },
      spec: {
        issuer: server.issuer,
        clientId: 'm2m',
        clientSecretRef: { name: 'not-there-yet' },
      },
    });
    const captured = new Map<string, Object>();

    // The first token, slow to come: coffre says Reconciling=True before it has any answer.
    server.tweaks.tokenLatencyMs = 4000;
    await applyTokenConnection(namespace, 'api');
    captured.set(
      'first token being requested',
      await until(namespace, 'api', has('Reconciling', 'True Reconciling')),
    );
    server.tweaks.tokenLatencyMs = 0;
    captured.set('Ready', await until(namespace, 'api', has('Ready', 'True TokenValid')));

    // A renewal in flight (forced, slow).
    server.tweaks.tokenLatencyMs = 4000;
    await mergePatch(namespace, 'api', { metadata: { annotations: { 'coffre.dev/force-refresh': '1' } } });
    captured.set(
      'renewing a valid token',
      await until(namespace, 'api', has('Reconciling', 'True Renewing')),
    );
    server.tweaks.tokenLatencyMs = 0;
    await until(namespace, 'api', has('Reconciling', 'False TokenValid'));

    // A renewal that fails while the token is valid, retried: Ready stays True, and the retries that
    // fail the same way change only the retry record (the attempts a restarted operator backs off
    // from), never a condition or its transition time.
    server.tweaks.fault = { kind: 'status', status: 503, ratio: 1 };
    await mergePatch(namespace, 'api', { metadata: { annotations: { 'coffre.dev/force-refresh': '2' } } });
    const failing = await until(namespace, 'api', has('Ready', 'True RenewalFailing'));
    captured.set('renewal failing, token still valid', failing);
    const refusals = () => server.tokenLog().filter((entry) => entry.fault === true).length;
    const before = refusals();
    await expect.poll(refusals, { timeout: 20_000 }).toBeGreaterThanOrEqual(before + 2);
    await expect
      .poll(async () => (await get(namespace, 'vaultconnections', 'api')).status?.failedAttempts ?? 0, {
        timeout: 20_000,
      })
      .toBeGreaterThan(failing.status?.failedAttempts ?? 0);
    expect((await get(namespace, 'vaultconnections', 'api')).status?.conditions).toEqual(
      failing.status?.conditions,
    );
    server.tweaks.fault = undefined;

    // A short-lived token whose endpoint goes away: Expired.
    await applyTokenConnection(namespace, 'brief', {}, 'short');
    await until(namespace, 'brief', has('Ready', 'True TokenValid'));
    await short.unavailable();
    captured.set(
      'Expired (endpoint down)',
      await until(namespace, 'brief', has('Expired', 'True EndpointUnreachable')),
    );

    await apply(namespace, {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'later' },
      spec: { type: 'apiKey', credentialsRef: { name: 'not-there-yet' } },
    });
    captured.set(
      'Empty (Secret not there yet)',
      await until(namespace, 'later', has('Empty', 'True SecretNotFound')),
    );
    await applyTokenConnection(namespace, 'refused', {}, 'wrong');
    captured.set(
      'terminal error (invalid_client)',
      await until(namespace, 'refused', has('Stalled', 'True InvalidClient')),
    );
    captured.set('OAuthClient Ready', await get(namespace, 'oauthclients', 'local'));
    captured.set('OAuthClient Empty', await get(namespace, 'oauthclients', 'waiting'));

    // With the operator gone, nothing observes what follows.
    await until(namespace, 'api', has('Ready', 'True TokenValid'));
    await until(namespace, 'api', has('Reconciling', 'False TokenValid'));
    await operator.stop();
    await applyTokenConnection(namespace, 'api', { oauth2: { audience: AUDIENCE, scopes: ['read:users'] } });
    captured.set('spec changed, not yet seen by coffre', await get(namespace, 'vaultconnections', 'api'));
    await mergePatch(namespace, 'api', { metadata: { finalizers: ['test.coffre.dev/hold'] } });
    await kube().json(`${API}/${namespace}/vaultconnections/api`, { method: 'DELETE' });
    captured.set('being deleted', await get(namespace, 'vaultconnections', 'api'));
    await mergePatch(namespace, 'api', { metadata: { finalizers: null } });

    await applyTokenConnection(unwatched, 'new');
    captured.set('created, not yet seen by coffre', await get(unwatched, 'vaultconnections', 'new'));

    const objects = healthStates.map((s) => {
      const object = captured.get(s.state);
      if (object === undefined) throw new Error(`no object captured for "${s.state}"`);
      return object;
    });
    const kstatus = run(['kstatus'], objects);
    const argocd = run(['argocd', LUA], objects);
    const seen = objects.map((object, i): HealthState => ({
      state: healthStates[i]?.state ?? '',
      kind: object.kind as HealthState['kind'],
      ready: cell(object, 'Ready'),
      reconciling: cell(object, 'Reconciling'),
      stalled: cell(object, 'Stalled'),
      kstatus: (kstatus[i]?.status ?? kstatus[i]?.error) as HealthState['kstatus'],
      argocd: (argocd[i]?.status ?? argocd[i]?.error) as HealthState['argocd'],
    }));
    console.log(
      objects
        .map(
          (_, i) =>
            `${healthStates[i]?.state}: kstatus "${kstatus[i]?.message}"; Argo CD "${argocd[i]?.message}"`,
        )
        .join('\n'),
    );
    expect(seen).toEqual(healthStates);
    // COFFRE_WRITE_HEALTH_FIXTURES=1 records these objects as the table argocd-lua.test.ts runs.
    if (process.env.COFFRE_WRITE_HEALTH_FIXTURES === '1') await writeFixtures(objects, argocd);
  });

  it('should remove the token fields from status when a token connection becomes Empty', async () => {
    const namespace = await useTestNamespace('health-empty');
    const server = await startOAuthServer({ accessTokenTtlSeconds: 600 });
    await startTestOperator({ namespace, caPem: server.caPem });
    await applyClient(namespace, server, 'local');
    await applyTokenConnection(namespace, 'api');
    const ready = await until(namespace, 'api', has('Ready', 'True TokenValid'));
    const fields = (o: Object) => Object.keys((o as { status?: object }).status ?? {}).sort();
    expect(fields(ready)).toEqual([
      'conditions',
      'expiresAt',
      'grantedScopes',
      'lastRefreshTime',
      'nextRefreshTime',
      'observedGeneration',
      'secretName',
    ]);
    await applyTokenConnection(namespace, 'api', {}, 'not-there-yet');
    const empty = await until(namespace, 'api', has('Empty', 'True OAuthClientNotFound'));
    expect(fields(empty)).toEqual(['conditions', 'observedGeneration', 'secretName']);
  });
});

async function writeFixtures(
  objects: Object[],
  argocd: { status?: string; message?: string }[],
): Promise<void> {
  await mkdir(join(FIXTURES, 'testdata'), { recursive: true });
  const tests = [];
  for (const [i, object] of objects.entries()) {
    const state = healthStates[i]?.state ?? '';
    const file = `${state
      .replace(/[^a-z0-9]+/gi, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()}.yaml`;
    const { managedFields: _managed, uid: _uid, ...metadata } = object.metadata as Record<string, unknown>;
    await writeFile(join(FIXTURES, 'testdata', file), stringify({ ...object, metadata }));
    tests.push({
      healthStatus: { status: argocd[i]?.status, message: argocd[i]?.message },
      inputPath: `testdata/${file}`,
    });
  }
  await writeFile(
    join(FIXTURES, 'health_test.yaml'),
    `# Recorded by test/integration/health/health-states.test.ts (COFFRE_WRITE_HEALTH_FIXTURES=1), one object per\n# state of docs/gitops.md#health; argocd-lua.test.ts runs the chart's health check on each, as Argo CD's\n# resource_customizations tests do.\n${stringify({ tests })}`,
  );
}
