// One real control plane per test run, shared by the integration suites: etcd, kube-apiserver (RBAC,
// CEL) and kube-controller-manager (garbage collector, namespace controller), with coffre's CRDs.
import type { TestProject } from 'vitest/node';
import {
  loadKubeConfig,
  startControlPlane,
  type ControlPlaneInfo,
} from '../../tools/controlplane/controlplane.ts';
import { installCrds } from '../../tools/controlplane/crds.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const controlPlane = await startControlPlane({
    onProgress: (line) => {
      console.log(`[controlplane] ${line}`);
    },
    // Before kube-controller-manager starts, so its garbage collector knows the CRDs at once.
    beforeControllerManager: async (kubeconfigPath) => {
      await installCrds(loadKubeConfig({ kubeconfigPath }));
    },
  });
  console.log(
    `[controlplane] Kubernetes ${controlPlane.version.gitVersion} (${controlPlane.version.goVersion}) at ${controlPlane.server}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const { dir, kubeconfigPath, server, caFile, etcdUrl, version } = controlPlane;
  project.provide('controlPlane', { dir, kubeconfigPath, server, caFile, etcdUrl, version });
  return async () => {
    await controlPlane.stop();
  };
}
