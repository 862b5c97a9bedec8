// One real control plane per test run, shared by the integration suites: etcd, kube-apiserver (RBAC,
// CEL, OwnerReferencesPermissionEnforcement) and kube-controller-manager (garbage collector, namespace
// controller, ClusterRole aggregation), with coffre's CRDs and the operator's ServiceAccount and RBAC
// from the chart. The operator in the end-to-end tests runs as that ServiceAccount, not as admin.
//
// With COFFRE_E2E_OPERATOR=external (test/e2e/kind/run.sh), no control plane is started: the suites run
// against the cluster of the current KUBECONFIG, where the chart installed the operator.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { createKubeHttp } from '../../src/controller/kube-http.ts';
import { ensureHealthCheck, ensureHelm } from '../../tools/controlplane/assets.ts';
import { installAdmissionPolicy } from '../support/admission.ts';
import { renderChart } from '../support/chart.ts';
import {
  loadKubeConfig,
  startControlPlane,
  type ControlPlaneInfo,
  type KubernetesVersion,
} from '../../tools/controlplane/controlplane.ts';
import { installCrds } from '../../tools/controlplane/crds.ts';
import { isExternalOperator } from '../support/e2e-mode.ts';
import { installOperatorIdentity } from '../support/operator-identity.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
    /** The operator ServiceAccount's token kubeconfig; empty with an external operator. */
    operatorKubeconfigPath: string;
    helm: string;
    /** coffre-health: kstatus and Argo CD's Lua VM over objects (tools/health-check). */
    healthCheck: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const healthCheck = ensureHealthCheck({
    onProgress: (line) => {
      console.log(`[health-check] ${line}`);
    },
  });
  if (isExternalOperator()) {
    project.provide('healthCheck', await healthCheck);
    const info = await externalCluster();
    console.log(`[e2e] external operator; cluster ${info.server} (Kubernetes ${info.version.gitVersion})`);
    project.provide('controlPlane', info);
    project.provide('operatorKubeconfigPath', '');
    project.provide('helm', '');
    return undefined;
  }
  const started = Date.now();
  const helm = ensureHelm({
    onProgress: (line) => {
      console.log(`[helm] ${line}`);
    },
  });
  const controlPlane = await startControlPlane({
    onProgress: (line) => {
      console.log(`[controlplane] ${line}`);
    },
    // As hardened clusters (OpenShift among them) run it: setting blockOwnerDeletion on an owner
    // reference needs `update` on the owner's finalizers, which the chart must then grant.
    apiServerFlags: ['--enable-admission-plugins=OwnerReferencesPermissionEnforcement'],
    // Before kube-controller-manager starts, so its garbage collector knows the CRDs at once.
    beforeControllerManager: async (kubeconfigPath) => {
      await installCrds(loadKubeConfig({ kubeconfigPath }));
    },
  });
  try {
    const { dir, kubeconfigPath, server, caFile, etcdUrl, version } = controlPlane;
    const identity = await installOperatorIdentity(loadKubeConfig(controlPlane), {
      helm: await helm,
      dir,
      server,
      caFile,
    });
    // As the chart installs it: every suite meets the reference authorization policy.
    await installAdmissionPolicy(loadKubeConfig(controlPlane), await renderChart(await helm));
    console.log(
      `[controlplane] Kubernetes ${version.gitVersion} (${version.goVersion}) at ${server}, operator as ${identity.username}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    project.provide('controlPlane', { dir, kubeconfigPath, server, caFile, etcdUrl, version });
    project.provide('operatorKubeconfigPath', identity.kubeconfigPath);
    project.provide('helm', await helm);
    project.provide('healthCheck', await healthCheck);
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  return async () => {
    await controlPlane.stop();
  };
}

/** The cluster of the current KUBECONFIG context, described like a local control plane. */
async function externalCluster(): Promise<ControlPlaneInfo> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new Error('COFFRE_E2E_OPERATOR=external needs a KUBECONFIG with a current context');
  const dir = await mkdtemp(join(tmpdir(), 'coffre-e2e-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  // One self-contained file (certificates inlined), whatever the user's kubeconfig looks like.
  await writeFile(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  let caFile = cluster.caFile ?? '';
  if (cluster.caData !== undefined) {
    caFile = join(dir, 'ca.crt');
    await writeFile(caFile, Buffer.from(cluster.caData, 'base64'));
  }
  const version = await createKubeHttp(kc).json<KubernetesVersion>('/version');
  return { dir, kubeconfigPath, server: cluster.server, caFile, etcdUrl: '', version };
}
