// What integration tests use to reach the shared control plane: an admin KubeConfig, the operator's
// ServiceAccount kubeconfig (the chart's RBAC), a fresh namespace per test (deleted afterwards),
// client-certificate users for RBAC tests, and etcd compaction.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, inject } from 'vitest';
import {
  compactEtcd as compact,
  loadKubeConfig,
  userKubeconfig,
  type ControlPlaneInfo,
} from '../../tools/controlplane/controlplane.ts';

export function controlPlaneInfo(): ControlPlaneInfo {
  return inject('controlPlane');
}

export function clusterKubeconfigPath(): string {
  return controlPlaneInfo().kubeconfigPath;
}

export function clusterKubeConfig(): KubeConfig {
  return loadKubeConfig(controlPlaneInfo());
}

/** The kubeconfig of the operator's ServiceAccount (a bearer token); RBAC exactly as the chart grants. */
export function operatorKubeconfigPath(): string {
  const path = inject('operatorKubeconfigPath');
  if (path === '') throw new Error('no operator ServiceAccount kubeconfig with an external operator');
  return path;
}

export function operatorKubeConfig(): KubeConfig {
  return loadKubeConfig({ kubeconfigPath: operatorKubeconfigPath() });
}

/** The helm binary the global setup built or found. */
export function helmPath(): string {
  return inject('helm');
}

/** A kubeconfig path for a user with the given groups, authenticated by a client certificate. */
export function userKubeconfigPath(user: string, groups: string[] = []): Promise<string> {
  return userKubeconfig(controlPlaneInfo(), user, groups);
}

export async function compactEtcd(): Promise<void> {
  await compact(controlPlaneInfo().etcdUrl);
}

const namespacesToDelete: string[] = [];
let cleanupRegistered = false;

/** Creates a namespace for the current test; it is deleted (without waiting) after the test. */
export async function useTestNamespace(prefix = 'test'): Promise<string> {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterEach(async () => {
      const core = clusterKubeConfig().makeApiClient(CoreV1Api);
      for (const name of namespacesToDelete.splice(0)) {
        await core.deleteNamespace({ name }).catch(() => undefined);
      }
    });
  }
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await clusterKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'coffre.dev/test': 'true' } } } });
  namespacesToDelete.push(name);
  return name;
}
