// Reads the data of Secrets that connections and clients reference. The operator watches every Secret's
// metadata only (no data in memory for unrelated Secrets); the data of a referenced Secret is fetched on
// demand and kept while its resourceVersion stays the one the metadata watch reports, so a steady-state
// reconcile reads no Secret from the API server.
import type { V1Secret } from '@kubernetes/client-node';
import type { Store } from '../controller/store.ts';
import type { KubeObject } from '../controller/types.ts';
import { secret, type SecretValue } from '../secrets/secret-value.ts';
import type { KubePort } from './kube-port.ts';

export type SecretRead =
  { found: false } | { found: true; resourceVersion: string; data: ReadonlyMap<string, SecretValue> };

interface Entry {
  resourceVersion: string;
  data: ReadonlyMap<string, SecretValue>;
}

export function decodeSecretData(object: V1Secret): Map<string, SecretValue> {
  const data = new Map<string, SecretValue>();
  for (const [key, value] of Object.entries(object.data ?? {})) {
    data.set(key, secret(Buffer.from(value, 'base64').toString('utf8')));
  }
  return data;
}

export class SecretReader {
  readonly #port: KubePort;
  readonly #metadata: Pick<Store<KubeObject>, 'get'>;
  readonly #entries = new Map<string, Entry>();

  /** `metadata` is the store of the metadata-only informer over Secrets. */
  constructor(port: KubePort, metadata: Pick<Store<KubeObject>, 'get'>) {
    this.#port = port;
    this.#metadata = metadata;
  }

  async read(namespace: string, name: string): Promise<SecretRead> {
    const key = `${namespace}/${name}`;
    const meta = this.#metadata.get(key);
    // The watch is the source of truth: a Secret it has not seen does not exist yet; when it appears,
    // its event re-queues the connections that reference it.
    if (meta === undefined) {
      this.#entries.delete(key);
      return { found: false };
    }
    const resourceVersion = meta.metadata?.resourceVersion ?? '';
    const cached = this.#entries.get(key);
    if (cached !== undefined && cached.resourceVersion === resourceVersion) {
      return { found: true, ...cached };
    }
    const object = await this.#port.getSecret(namespace, name);
    if (object === undefined) {
      this.#entries.delete(key);
      return { found: false };
    }
    const entry = { resourceVersion: object.metadata?.resourceVersion ?? '', data: decodeSecretData(object) };
    this.#entries.set(key, entry);
    return { found: true, ...entry };
  }

  /** Drops the cached data of a deleted Secret. */
  forget(namespace: string, name: string): void {
    this.#entries.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.#entries.size;
  }
}
