// Installs coffre's CRDs (server-side apply) and waits until the API server serves them. The raw
// manifests go over plain HTTP: @kubernetes/client-node's typed serializer drops schema keywords it
// does not model under their JSON names (enum, x-kubernetes-validations) from a parsed YAML object.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createKubeHttp } from '../../src/controller/kube-http.ts';

const crdsDir = join(import.meta.dirname, '../../crds');
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

export async function installCrds(kc: KubeConfig, timeoutMs = 30_000): Promise<string[]> {
  const http = createKubeHttp(kc);
  const names: string[] = [];
  for (const file of (await readdir(crdsDir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = parse(await readFile(join(crdsDir, file), 'utf8')) as Crd;
    await http.json(`${CRD_PATH}/${crd.metadata.name}`, {
      method: 'PATCH',
      query: { fieldManager: 'coffre-install', force: true },
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(crd),
    });
    names.push(crd.metadata.name);
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await http.json<Crd>(`${CRD_PATH}/${name}`);
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return names;
}
