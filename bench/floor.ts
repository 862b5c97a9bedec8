// The floor: a minimal @kubernetes/client-node program that makes exactly the API writes N connections
// need — create the target Secret (same keys, annotations, labels and data size as coffre's), patch the
// connection's status to Ready — with the same number of workers as the operator, fed by an informer
// on the connections. No token requests, no caches beyond the informer's, no events: the least any
// controller could do. Run as a child process by the bench (fork, IPC), like the operator.
//
// client-node creates a new undici Agent (a new TLS connection) for every request; with
// `pinAgent` the floor gives every request one shared keep-alive Agent instead, as an efficient client
// would.
import { readFileSync } from 'node:fs';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  createConfiguration,
  makeInformer,
  setHeaderOptions,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Secret,
} from '@kubernetes/client-node';
import { Agent } from 'undici';

export interface FloorOptions {
  kubeconfigPath: string;
  namespace: string;
  workers: number;
  pinAgent: boolean;
  /** A target Secret and a status as coffre writes them (names and owner are filled in per connection). */
  template: { secret: V1Secret; status: Record<string, unknown> };
}

export type FloorMessage = { kind: 'ready' } | { kind: 'error'; message: string };

const GROUP = 'coffre.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'vaultconnections';

async function main(options: FloorOptions): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (cluster === null || user === null) throw new Error('no cluster or user in the kubeconfig');
  const promiseMiddleware = [];
  if (options.pinAgent) {
    const agent = new Agent({
      connect: {
        ca: readFileSync(cluster.caFile ?? ''),
        cert: readFileSync(user.certFile ?? ''),
        key: readFileSync(user.keyFile ?? ''),
      },
    });
    promiseMiddleware.push({
      pre: (context: { setDispatcher(dispatcher: Agent): void }) => {
        context.setDispatcher(agent);
        return Promise.resolve(context);
      },
      post: <T>(response: T) => Promise.resolve(response),
    });
  }
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: promiseMiddleware as never,
  });
  const core = new CoreV1Api(configuration);
  const custom = new CustomObjectsApi(configuration);
  const { namespace } = options;

  const queue: KubernetesObject[] = [];
  const waiting: ((object: KubernetesObject) => void)[] = [];
  const informer = makeInformer(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    () =>
      custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
      }) as Promise<KubernetesListObject<KubernetesObject>>,
  );
  // client-node's informer stops on an error (e.g. 429 while the CRD's watch cache initialises):
  // start it again, as its documentation says.
  informer.on('error', () => {
    setTimeout(() => void informer.start(), 1000);
  });
  informer.on('add', (object) => {
    const next = waiting.shift();
    if (next === undefined) queue.push(object);
    else next(object);
  });
  const take = () =>
    new Promise<KubernetesObject>((resolve) => {
      const object = queue.shift();
      if (object === undefined) waiting.push(resolve);
      else resolve(object);
    });

  const { secret, status } = options.template;
  const work = async () => {
    for (;;) {
      const connection = await take();
      const name = connection.metadata?.name ?? '';
      await core.createNamespacedSecret({
        namespace,
        body: {
          ...secret,
          metadata: {
            ...secret.metadata,
            name: `${name}-token`,
            namespace,
            labels: { ...secret.metadata?.labels, 'coffre.dev/connection': name },
            ownerReferences: [
              {
                apiVersion: `${GROUP}/${VERSION}`,
                kind: 'VaultConnection',
                name,
                uid: connection.metadata?.uid ?? '',
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
        },
      });
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const conditions = (status.conditions as Record<string, unknown>[] | undefined) ?? [];
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: {
            status: {
              ...status,
              secretName: `${name}-token`,
              conditions: conditions.map((c) => ({ ...c, lastTransitionTime: now })),
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  };
  await informer.start();
  for (let i = 0; i < options.workers; i++) {
    work().catch((error: unknown) => {
      process.send?.({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    });
  }
  process.send?.({ kind: 'ready' } satisfies FloorMessage);
}

process.on('disconnect', () => process.exit(0));
await main(JSON.parse(process.argv[2] ?? '{}') as FloorOptions);
