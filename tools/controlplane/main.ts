// npm run controlplane: a local control plane (etcd, kube-apiserver, kube-controller-manager) with
// coffre's CRDs installed. Prints KUBECONFIG=<path> once ready and stays up until interrupted.
import { parseArgs } from 'node:util';
import { loadKubeConfig, startControlPlane } from './controlplane.ts';
import { installCrds } from './crds.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'no-crds': { type: 'boolean', default: false },
    'no-controller-manager': { type: 'boolean', default: false },
  },
});

const controlPlane = await startControlPlane({
  ...(values.dir === undefined ? {} : { dir: values.dir }),
  controllerManager: !values['no-controller-manager'],
  onProgress: (line) => {
    console.error(`controlplane: ${line}`);
  },
  beforeControllerManager: async (kubeconfigPath) => {
    if (values['no-crds']) return;
    const names = await installCrds(loadKubeConfig({ kubeconfigPath }));
    console.error(`controlplane: installed ${names.join(', ')}`);
  },
});
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`controlplane: ${signal}, stopping`);
  await controlPlane.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

console.error(
  `controlplane: Kubernetes ${controlPlane.version.gitVersion} at ${controlPlane.server}; Ctrl-C stops it`,
);
console.log(`KUBECONFIG=${controlPlane.kubeconfigPath}`);
// Stay up until a signal arrives.
setInterval(() => undefined, 1 << 30);
