// Installs coffre's CRDs (server-side apply) and waits until the API server serves them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse } from 'yaml';

const crdsDir = join(import.meta.dirname, '../../crds');

export async function installCrds(kc: KubeConfig, timeoutMs = 30_000): Promise<string[]> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of (await readdir(crdsDir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = parse(await readFile(join(crdsDir, file), 'utf8')) as KubernetesObject;
    await objects.patch(crd, undefined, undefined, 'coffre-tests', true, PatchStrategy.ServerSideApply);
    names.push(crd.metadata?.name ?? file);
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await extensions.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return names;
}
