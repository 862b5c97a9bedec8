// A fresh control plane per scenario (etcd + kube-apiserver, coffre's CRDs; no controller manager,
// whose garbage collector would add load the operator did not cause), and the bench's client on it.
import {
  loadKubeConfig,
  startControlPlane,
  type ControlPlane,
  type KubernetesVersion,
} from '../tools/controlplane/controlplane.ts';
import { installCrds } from '../tools/controlplane/crds.ts';
import type { BenchContext } from './context.ts';
import { createBenchKube, createNamespace, type BenchKube } from './kube.ts';
import { cpuOf, findProcesses, waitQuiet } from './procs.ts';

export interface BenchCluster {
  controlPlane: ControlPlane;
  kube: BenchKube;
  version: KubernetesVersion;
  /** CPU seconds used so far by etcd and kube-apiserver. */
  serverCpu(): Promise<Record<string, number>>;
  /** Waits until etcd and kube-apiserver are idle (e.g. done building OpenAPI for new CRDs). */
  settle(): Promise<number>;
  stop(): Promise<void>;
}

/** Where the operator keeps its record key (its --leader-election-namespace default). */
export const OPERATOR_NAMESPACE = 'coffre-system';

export async function startCluster(context: BenchContext): Promise<BenchCluster> {
  const started = Date.now();
  const controlPlane = await startControlPlane({
    controllerManager: false,
    beforeControllerManager: async (kubeconfigPath) => {
      await installCrds(loadKubeConfig({ kubeconfigPath }));
    },
  });
  const kube = createBenchKube(controlPlane.kubeconfigPath);
  // The operator's namespace, as the chart installs it: its record key Secret lives there.
  await createNamespace(kube, OPERATOR_NAMESPACE);
  const servers = await findProcesses(controlPlane.dir);
  const settled = await waitQuiet(servers);
  context.kubernetes = controlPlane.version.gitVersion;
  context.log(
    `  control plane ${controlPlane.version.gitVersion} ready and idle in ${Date.now() - started} ms (idle after ${settled} ms)`,
  );
  return {
    controlPlane,
    kube,
    version: controlPlane.version,
    serverCpu: () => cpuOf(servers),
    settle: () => waitQuiet(servers),
    async stop() {
      await kube.close();
      await controlPlane.stop();
    },
  };
}
