// The data of coffre's own Secrets (targets and state), read by name and kept per resourceVersion.
// coffre watches its own Secrets as metadata only: a tenant can put coffre's label on any Secret, and a
// watch with data would bring every such Secret's bytes into the operator (600 Secrets of 1 MiB: +600
// MiB of JSON to parse). Only the Secrets of connections coffre knows are read whole, by name, once per
// version; its own writes are remembered, so a steady-state reconcile reads nothing.
import type { V1Secret } from '@kubernetes/client-node';
import type { KubePort } from './kube-port.ts';

export class OwnedSecretData {
  readonly #port: Pick<KubePort, 'getSecret'>;
  readonly #entries = new Map<string, V1Secret>();

  constructor(port: Pick<KubePort, 'getSecret'>) {
    this.#port = port;
  }

  /** The whole Secret at `resourceVersion`: from memory if that version is known, else from the API server. */
  async get(namespace: string, name: string, resourceVersion: string): Promise<V1Secret | undefined> {
    const key = `${namespace}/${name}`;
    const known = this.#entries.get(key);
    if (known !== undefined && known.metadata?.resourceVersion === resourceVersion) return known;
    const live = await this.#port.getSecret(namespace, name);
    if (live === undefined) this.#entries.delete(key);
    else this.#entries.set(key, live);
    return live;
  }

  /** What a write returned: the version the watch will report next. */
  remember(secret: V1Secret): void {
    this.#entries.set(`${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`, secret);
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
