// The data of coffre's own Secrets (targets and state), read by name and kept per resourceVersion.
// coffre watches its own Secrets as metadata only: a tenant can put coffre's label on any Secret, and a
// watch with data would bring every such Secret's bytes into the operator (600 Secrets of 1 MiB: +600
// MiB of JSON to parse). Only the Secrets of connections coffre knows are read whole, by name, once per
// version; its own writes are remembered, so a steady-state reconcile reads nothing. Only the data half of
// each version is kept (type and data): the metadata is the watch's, and a second copy of it (labels,
// annotations, owner reference) would double what a connection costs.
import type { V1Secret } from '@kubernetes/client-node';
import type { KubePort } from './kube-port.ts';

/** What is kept of a version: its data half. The metadata is the informer's, at the same version. */
interface DataHalf {
  resourceVersion: string;
  type: string | undefined;
  data: Record<string, string> | undefined;
}

export class OwnedSecretData {
  readonly #port: Pick<KubePort, 'getSecret'>;
  readonly #entries = new Map<string, DataHalf>();

  constructor(port: Pick<KubePort, 'getSecret'>) {
    this.#port = port;
  }

  /**
   * The whole Secret whose metadata the watch reports (`metadata`, a metadata-only object): its data from
   * memory if that version is known, else the Secret read from the API server (whatever its version now).
   */
  async get(metadata: V1Secret): Promise<V1Secret | undefined> {
    const namespace = metadata.metadata?.namespace ?? '';
    const name = metadata.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const known = this.#entries.get(key);
    if (known !== undefined && known.resourceVersion === metadata.metadata?.resourceVersion) {
      return {
        ...metadata,
        apiVersion: 'v1',
        kind: 'Secret',
        ...(known.type === undefined ? {} : { type: known.type }),
        ...(known.data === undefined ? {} : { data: known.data }),
      };
    }
    const live = await this.#port.getSecret(namespace, name);
    if (live === undefined) this.#entries.delete(key);
    else this.remember(live);
    return live;
  }

  /** What a write (or a read) returned: the version the watch will report next. */
  remember(secret: V1Secret): void {
    this.#entries.set(`${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`, {
      resourceVersion: secret.metadata?.resourceVersion ?? '',
      type: secret.type,
      data: secret.data,
    });
  }

  forget(namespace: string, name: string): void {
    this.#entries.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Whether an object is a whole Secret rather than its metadata (the API server always sets `type`). */
export function isWholeSecret(object: { type?: unknown; data?: unknown } | undefined): boolean {
  return object !== undefined && (object.type !== undefined || object.data !== undefined);
}
