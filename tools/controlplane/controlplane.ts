// A real Kubernetes control plane on loopback, as controller-runtime's envtest starts it: etcd and
// kube-apiserver (RBAC on, service-account issuer and signing key, client-certificate admin), and
// optionally kube-controller-manager with the garbage-collector, namespace and clusterrole-aggregation
// controllers. Used by the integration tests (one per run), `npm run controlplane` and `npm run dev`.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../tls.ts';
import { ensureAssets, type Assets } from './assets.ts';
import { startProcess, type ManagedProcess } from './processes.ts';

export interface ControlPlaneOptions {
  /** Directory for data, certificates, logs and kubeconfigs; a fresh temporary one by default. */
  dir?: string;
  /**
   * Start kube-controller-manager (garbage collector, namespace controller, ClusterRole aggregation).
   * Default true.
   */
  controllerManager?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerFlags?: string[];
  /** Progress lines (building assets, starting processes). */
  onProgress?: (line: string) => void;
  /** Use these binaries instead of building or finding them. */
  assets?: Assets;
  /**
   * Runs once the API server is ready, before kube-controller-manager starts (e.g. installing CRDs, so
   * that the garbage collector knows their resources from its first discovery instead of 30 s later).
   */
  beforeControllerManager?: (kubeconfigPath: string) => Promise<void>;
}

export interface KubernetesVersion {
  gitVersion: string;
  major: string;
  minor: string;
  platform: string;
  goVersion: string;
}

/** What a test process needs to reach the control plane; plain data, passed from the global setup. */
export interface ControlPlaneInfo {
  dir: string;
  /** The admin kubeconfig (group system:masters). */
  kubeconfigPath: string;
  server: string;
  caFile: string;
  etcdUrl: string;
  version: KubernetesVersion;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Log files of the processes, for diagnosing failures. */
  logs: Record<string, string>;
  /**
   * Stops kube-apiserver (SIGKILL, or SIGTERM when `graceful`), waits `downMs`, starts it again with the
   * same flags on the same port, and resolves once it is ready (chaos runs: an API server restart).
   */
  restartApiServer(options?: {
    downMs?: number;
    graceful?: boolean;
    onDown?: () => Promise<void>;
  }): Promise<void>;
  stop(): Promise<void>;
}

export function loadKubeConfig(info: Pick<ControlPlaneInfo, 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  return kc;
}

/** Writes a kubeconfig for a user authenticated by a client certificate, member of the given groups. */
export async function userKubeconfig(
  info: Pick<ControlPlaneInfo, 'dir' | 'server' | 'caFile'>,
  user: string,
  groups: string[] = [],
): Promise<string> {
  const pki = join(info.dir, 'pki');
  const ca: CertificateAuthority = {
    dir: pki,
    certFile: info.caFile,
    keyFile: join(pki, 'ca.key'),
    certPem: await readFile(info.caFile, 'utf8'),
    keyPem: await readFile(join(pki, 'ca.key'), 'utf8'),
  };
  const safe = user.replace(/[^a-zA-Z0-9_.-]/g, '_');
  const pair = await issueCertificate(ca, {
    name: `user-${safe}`,
    commonName: user,
    organizations: groups,
    usage: 'client',
  });
  const path = join(info.dir, `kubeconfig-${safe}`);
  await writeFile(path, kubeconfigYaml(info.server, info.caFile, safe, pair), {
    mode: 0o600,
  });
  return path;
}

/** Compacts etcd to its current revision, so older resourceVersions answer 410 Gone. */
export async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const header = ((await range.json()) as { header: { revision: string } }).header;
  const compaction = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: header.revision, physical: true }),
  });
  if (!compaction.ok) throw new Error(`etcd compaction failed: HTTP ${compaction.status}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

interface HttpsOptions {
  ca: string;
  cert: string;
  key: string;
}

function httpsGet(
  url: string,
  tls: HttpsOptions,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  processes: ManagedProcess[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead !== undefined) {
      const tail = (await readFile(dead.logFile, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n');
      throw new Error(`${dead.name} exited while waiting for ${what}; last log lines:\n${tail}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A kubeconfig for one user of a local control plane: a client certificate or a bearer token. */
export function kubeconfigYaml(
  server: string,
  caFile: string,
  user: string,
  credentials: { certFile: string; keyFile: string } | { token: string },
): string {
  const userLines =
    'token' in credentials
      ? `    token: ${credentials.token}`
      : `    client-certificate: ${credentials.certFile}\n    client-key: ${credentials.keyFile}`;
  return `apiVersion: v1
kind: Config
clusters:
- name: coffre-local
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: ${user}
  user:
${userLines}
contexts:
- name: coffre-local
  context:
    cluster: coffre-local
    user: ${user}
current-context: coffre-local
`;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'coffre-controlplane-')));
  const ownsDir = options.dir === undefined;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const assets = options.assets ?? (await ensureAssets({ onProgress: progress }));
  const processes: ManagedProcess[] = [];
  const logs: Record<string, string> = {};

  const stopAll = async () => {
    for (const process of [...processes].reverse()) await process.stop();
  };

  try {
    // Certificates: one CA for serving and client certificates; a service-account signing key.
    const pki = join(dir, 'pki');
    const ca: CertificateAuthority = await createCertificateAuthority(pki, 'coffre-local-ca');
    const serving = await issueCertificate(ca, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
      usage: 'server',
    });
    const admin = await issueCertificate(ca, {
      name: 'admin',
      commonName: 'coffre-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKeyFile = join(pki, 'sa.key');
    const saPubFile = join(pki, 'sa.pub');
    await writeFile(saKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(saPubFile, publicKey.export({ type: 'spki', format: 'pem' }));

    // etcd
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    logs.etcd = join(dir, 'etcd.log');
    progress(`starting etcd on ${etcdUrl}`);
    const etcd = startProcess(
      'etcd',
      assets.etcd,
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        '--quota-backend-bytes=8589934592',
      ],
      logs.etcd,
    );
    processes.push(etcd);
    await waitFor('etcd health', async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000, processes);

    // kube-apiserver
    const server = `https://127.0.0.1:${apiPort}`;
    logs['kube-apiserver'] = join(dir, 'kube-apiserver.log');
    progress(`starting kube-apiserver on ${server}`);
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${serving.certFile}`,
      `--tls-private-key-file=${serving.keyFile}`,
      `--client-ca-file=${ca.certFile}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPubFile}`,
      `--service-account-signing-key-file=${saKeyFile}`,
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=0',
      ...(options.apiServerFlags ?? []),
    ];
    const apiServerLog = logs['kube-apiserver'];
    let apiserver = startProcess('kube-apiserver', assets.kubeApiserver, apiServerArgs, apiServerLog);
    processes.push(apiserver);
    const tls: HttpsOptions = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    const apiServerReady = () =>
      waitFor(
        'kube-apiserver /readyz',
        async () => (await httpsGet(`${server}/readyz`, tls)).status === 200,
        120_000,
        processes,
      );
    await apiServerReady();
    const restartApiServer: ControlPlane['restartApiServer'] = async (restart = {}) => {
      const index = processes.indexOf(apiserver);
      if (restart.graceful === true) await apiserver.stop();
      else {
        apiserver.child.kill('SIGKILL');
        await apiserver.exited;
      }
      await restart.onDown?.();
      await new Promise((resolve) => setTimeout(resolve, restart.downMs ?? 0));
      apiserver = startProcess('kube-apiserver', assets.kubeApiserver, apiServerArgs, apiServerLog);
      processes.splice(index, 1, apiserver);
      await apiServerReady();
    };
    const version = JSON.parse((await httpsGet(`${server}/version`, tls)).body) as KubernetesVersion;
    progress(`kube-apiserver ${version.gitVersion} ready`);

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(server, ca.certFile, 'coffre-admin', admin), {
      mode: 0o600,
    });

    await options.beforeControllerManager?.(kubeconfigPath);

    // kube-controller-manager: only what tests rely on (garbage collection, namespace deletion, and the
    // aggregation of coffre-view/edit/admin into the built-in view/edit/admin ClusterRoles).
    if (options.controllerManager ?? true) {
      if (assets.kubeControllerManager === undefined) {
        progress('kube-controller-manager not available: garbage collection and namespace deletion are off');
      } else {
        const kcmKubeconfig = await userKubeconfig(
          { dir, server, caFile: ca.certFile },
          'system:kube-controller-manager',
        );
        logs['kube-controller-manager'] = join(dir, 'kube-controller-manager.log');
        progress('starting kube-controller-manager (garbagecollector, namespace, clusterrole-aggregation)');
        processes.push(
          startProcess(
            'kube-controller-manager',
            assets.kubeControllerManager,
            [
              `--kubeconfig=${kcmKubeconfig}`,
              '--controllers=garbagecollector,namespace,clusterrole-aggregation',
              '--leader-elect=false',
              '--secure-port=0',
              // Each controller as its own ServiceAccount with its bootstrap role, as kubeadm runs them:
              // the ClusterRole aggregator needs `escalate` on ClusterRoles, which the
              // system:kube-controller-manager identity alone does not have.
              '--use-service-account-credentials=true',
              '--concurrent-gc-syncs=5',
              '--v=0',
            ],
            logs['kube-controller-manager'],
          ),
        );
      }
    }

    return {
      dir,
      kubeconfigPath,
      server,
      caFile: ca.certFile,
      etcdUrl,
      version,
      logs,
      restartApiServer,
      async stop() {
        await stopAll();
        if (ownsDir) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
