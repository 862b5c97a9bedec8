// npm run dev: coffre doing its job with nothing else installed. Builds (once) or reuses the control
// plane binaries, starts etcd, kube-apiserver and kube-controller-manager on loopback with the CRDs, a
// local OAuth server (oidc-provider) issuing short-lived tokens, and the operator; applies demo
// connections and shows them as a live table. Ctrl-C stops everything it started.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKubeHttp, type KubeHttp } from '../../src/controller/kube-http.ts';
import {
  freePort,
  loadKubeConfig,
  startControlPlane,
  type ControlPlane,
} from '../controlplane/controlplane.ts';
import { installCrds } from '../controlplane/crds.ts';
import { startProcess, type ManagedProcess } from '../controlplane/processes.ts';
import { startLocalOAuthServer, type LocalOAuthServer } from '../local-oauth-server.ts';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_EXPECTATIONS,
  DEMO_NAMESPACE,
  OPERATOR_NAMESPACE,
  demoManifests,
} from './demo.ts';
import { renderTable, type ConnectionRow } from './table.ts';

const { values } = parseArgs({
  options: {
    'token-ttl': { type: 'string', default: '30' },
    plain: { type: 'boolean', default: false },
  },
});
const tokenTtlSeconds = Number(values['token-ttl']);
if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 3) {
  console.error('dev: --token-ttl must be an integer number of seconds, at least 3');
  process.exit(2);
}
const live = process.stdout.isTTY && !values.plain;
const say = (line: string) => {
  console.log(`dev: ${line}`);
};

const dir = await mkdtemp(join(tmpdir(), 'coffre-dev-'));
let controlPlane: ControlPlane | undefined;
let oauthServer: LocalOAuthServer | undefined;
let operator: ManagedProcess | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping the operator, the OAuth server and the control plane');
    await operator?.stop(25_000);
    await oauthServer?.stop();
    await controlPlane?.stop();
    await rm(dir, { recursive: true, force: true });
    say('stopped; nothing is left running');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  say('starting a local control plane (the first run builds Kubernetes from source: many minutes, once)');
  controlPlane = await startControlPlane({
    dir: join(dir, 'controlplane'),
    onProgress: (line) => {
      say(line);
    },
    beforeControllerManager: async (kubeconfigPath) => {
      await installCrds(loadKubeConfig({ kubeconfigPath }));
    },
  });

  const oauthPort = await freePort();
  const domain = `127.0.0.1:${oauthPort}`;
  oauthServer = await startLocalOAuthServer({
    port: oauthPort,
    clients: [
      { clientId: DEMO_CLIENT_ID, authMethod: 'client_secret_post', clientSecret: DEMO_CLIENT_SECRET },
    ],
    resourceServers: {
      [`https://${domain}/api/v2/`]: {
        scope: 'read:users update:users',
        accessTokenTtlSeconds: tokenTtlSeconds,
      },
    },
    accessTokenTtlSeconds: tokenTtlSeconds,
  });
  const caFile = join(dir, 'oauth-ca.pem');
  await writeFile(caFile, oauthServer.caPem);
  say(
    `local OAuth server (oidc-provider, Auth0-style) at ${oauthServer.issuer}, tokens live ${tokenTtlSeconds}s`,
  );

  const http = createKubeHttp(loadKubeConfig(controlPlane));
  // The demo namespace, and the operator's own (as the chart installs it): its record key lives there.
  for (const name of [DEMO_NAMESPACE, OPERATOR_NAMESPACE]) {
    await http.json('/api/v1/namespaces', {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    });
  }
  for (const object of demoManifests(domain)) await apply(http, object);

  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  operator = startProcess(
    'coffre',
    process.execPath,
    [
      join(import.meta.dirname, '../../src/main.ts'),
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--leader-elect=false',
      `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
      '--allowed-cidrs=127.0.0.1/32',
      `--ca-file=${caFile}`,
      `--metrics-port=${metricsPort}`,
      `--health-port=${healthPort}`,
      '--metrics-host=127.0.0.1',
      '--health-host=127.0.0.1',
    ],
    join(dir, 'operator.log'),
  );
  void operator.exited.then((code) => {
    if (!stopping) {
      say(`the operator exited (code ${String(code)}); see ${join(dir, 'operator.log')}`);
      void stopAll(1);
    }
  });

  console.log(`
coffre is running on a local Kubernetes ${controlPlane.version.gitVersion} control plane.
In another terminal:
  export KUBECONFIG=${controlPlane.kubeconfigPath}
  kubectl get vc -n ${DEMO_NAMESPACE} -w
  kubectl -n ${DEMO_NAMESPACE} create secret generic crm --from-literal=apiKey=hello   # the empty connection turns Ready
Operator log: ${join(dir, 'operator.log')}    metrics: http://127.0.0.1:${metricsPort}/metrics
Ctrl-C stops everything.
KUBECONFIG=${controlPlane.kubeconfigPath}
`);
  await watch(http);
} catch (error) {
  console.error(`dev: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}

async function apply(http: KubeHttp, object: ReturnType<typeof demoManifests>[number]): Promise<void> {
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const plural = object.kind === 'Secret' ? 'secrets' : 'vaultconnections';
  await http.json(`${base}/namespaces/${DEMO_NAMESPACE}/${plural}/${object.metadata.name}`, {
    method: 'PATCH',
    query: { fieldManager: 'coffre-dev', force: true },
    contentType: 'application/apply-patch+yaml',
    body: JSON.stringify({ ...object, metadata: { ...object.metadata, namespace: DEMO_NAMESPACE } }),
  });
}

interface ListedConnection {
  metadata: { name: string };
  spec: { type: string };
  status?: {
    conditions?: { type: string; status: string; reason: string }[];
    expiresAt?: string;
    lastRefreshTime?: string;
    nextRefreshTime?: string;
  };
}

async function watch(http: KubeHttp): Promise<void> {
  const refreshes = new Map<string, number>();
  const lastSeen = new Map<string, string>();
  let drawnLines = 0;
  let converged = false;
  let lastPlain = '';
  for (;;) {
    const list = await http
      .json<{ items: ListedConnection[] }>(
        `/apis/coffre.dev/v1alpha1/namespaces/${DEMO_NAMESPACE}/vaultconnections`,
      )
      .catch(() => ({ items: [] }));
    const rows: ConnectionRow[] = list.items.map((item) => {
      const ready = item.status?.conditions?.find((c) => c.type === 'Ready');
      const last = item.status?.lastRefreshTime;
      if (last !== undefined && lastSeen.get(item.metadata.name) !== last) {
        lastSeen.set(item.metadata.name, last);
        refreshes.set(item.metadata.name, (refreshes.get(item.metadata.name) ?? 0) + 1);
      }
      return {
        name: item.metadata.name,
        type: item.spec.type,
        ready: ready?.status ?? '-',
        reason: ready?.reason ?? 'Pending',
        ...(item.status?.expiresAt === undefined ? {} : { expiresAt: item.status.expiresAt }),
        ...(last === undefined ? {} : { lastRefreshTime: last }),
        ...(item.status?.nextRefreshTime === undefined
          ? {}
          : { nextRefreshTime: item.status.nextRefreshTime }),
      };
    });
    if (!converged && meetsExpectations(list.items)) {
      converged = true;
      say('demo converged: auth0-management Ready, crm Empty (waiting for its Secret), maps Ready');
      drawnLines = 0;
    }
    const table = renderTable(rows, Date.now(), refreshes);
    if (live) {
      if (drawnLines > 0) process.stdout.write(`\x1b[${drawnLines}A\x1b[J`);
      process.stdout.write(`${table}\n`);
      drawnLines = table.split('\n').length;
    } else {
      const summary = rows
        .map((r) => `${r.name}=${r.ready}/${r.reason}/refreshes:${refreshes.get(r.name) ?? 0}`)
        .join(' ');
      if (summary !== lastPlain) {
        lastPlain = summary;
        say(summary);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function meetsExpectations(items: readonly ListedConnection[]): boolean {
  return Object.entries(DEMO_EXPECTATIONS).every(([name, [type, status]]) =>
    items.some(
      (item) =>
        item.metadata.name === name &&
        item.status?.conditions?.some((c) => c.type === type && c.status === status),
    ),
  );
}
