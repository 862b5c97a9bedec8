// The operator's KubeConfig: @kubernetes/client-node's own (files, KUBECONFIG merging, in-cluster
// service accounts, exec plugins, OIDC), loaded without the generated API clients and models that its
// config module pulls in through one import of ./gen/index.js.
//
// config.js takes only createConfiguration and ServerConfiguration from that index, for makeApiClient;
// the index also loads ~1,000 generated modules that coffre, which speaks raw HTTP (decision 0004),
// never calls. They cost the operator 46 MB of resident memory and 16 MB of heap (measured: bench,
// docs/performance.md). A module-resolution hook points that one import at client-node-gen.ts, which
// re-exports the same two names from their own small modules, so makeApiClient keeps working.
//
// The hook applies to modules resolved after it is registered, hence the dynamic import; a process that
// loaded @kubernetes/client-node's index before (the tests) keeps the full module, which is equivalent.
import { registerHooks } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

type KubeConfigModule = typeof import('@kubernetes/client-node/dist/config.js');

const CONFIG_MODULE = '/@kubernetes/client-node/dist/config.js';
const GENERATED_INDEX = './gen/index.js';
// Beside this module, with its extension: .ts from the sources, .js in the image (compiled, decision 0008).
const SLIM_INDEX = new URL(`./client-node-gen${extname(fileURLToPath(import.meta.url))}`, import.meta.url)
  .href;

let registered = false;

/** Whether a resolution is config.js asking for the generated index (exported for the unit test). */
export function isGeneratedIndexOfConfig(specifier: string, parentURL: string | undefined): boolean {
  return specifier === GENERATED_INDEX && parentURL?.endsWith(CONFIG_MODULE) === true;
}

/** client-node's KubeConfig class, without its generated API surface. */
export async function slimKubeConfig(): Promise<KubeConfigModule['KubeConfig']> {
  if (!registered) {
    registered = true;
    registerHooks({
      resolve(specifier, context, nextResolve) {
        if (isGeneratedIndexOfConfig(specifier, context.parentURL)) {
          return { url: SLIM_INDEX, shortCircuit: true };
        }
        return nextResolve(specifier, context);
      },
    });
  }
  const module: KubeConfigModule = await import('@kubernetes/client-node/dist/config.js');
  return module.KubeConfig;
}
