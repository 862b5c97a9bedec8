// Every write (and the few reads) the reconcilers make against the API server, in one thin port over
// raw HTTP: JSON in, JSON out, no typed serializer between our objects and the wire. Counting what
// passes here is how the benchmark reports API writes per refresh.
import type { CoreV1Event, V1Secret } from '@kubernetes/client-node';
import { KubeApiError, type KubeHttp } from '../controller/kube-http.ts';
import { compact } from '../controller/transforms.ts';
import type { KubeObject } from '../controller/types.ts';

export const FIELD_MANAGER = 'coffre';
/** The server-side apply manager of coffre's finalizers (apart, so applying them disowns nothing else). */
export const FINALIZER_FIELD_MANAGER = 'coffre-finalizer';

export interface ResourcePath {
  group: string;
  version: string;
  plural: string;
}

export interface KubePort {
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Creates; throws KubeApiError 409 AlreadyExists when a Secret of that name exists. */
  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** Replaces with optimistic concurrency (metadata.resourceVersion must be set). */
  replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** Merge-patches the status subresource; returns the object as the API server stored it. */
  patchStatus(resource: ResourcePath, namespace: string, name: string, status: unknown): Promise<unknown>;
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
  /**
   * Adds or removes one finalizer of coffre's on a custom resource, by server-side apply of that entry
   * alone (finalizers are a set: other owners' entries, and spec, are left as they are).
   */
  applyFinalizer(
    resource: ResourcePath,
    object: { apiVersion: string; kind: string; namespace: string; name: string },
    finalizer: string,
    present: boolean,
  ): Promise<void>;
  /** Strategic-merge-patches a workload's pod template annotations (a rollout restart). */
  annotatePodTemplate(
    kind: string,
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<void>;
}

export interface WriteCounter {
  /** Called once per write request sent, with its verb and resource. */
  count(verb: string, resource: string): void;
}

const WORKLOAD_PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 409;
}

/**
 * What the API server returns, as the informers cache it (no managedFields, repeated strings shared):
 * these copies are kept too, by the read-your-writes views and the owned Secrets' data.
 */
function compacted<T>(object: T): T {
  return compact(object as KubeObject) as T;
}

export function createKubePort(http: KubeHttp, counter: WriteCounter = { count: () => undefined }): KubePort {
  const secretsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;
  return {
    async getSecret(namespace, name) {
      try {
        return compacted(await http.json<V1Secret>(`${secretsPath(namespace)}/${name}`));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async createSecret(namespace, secret) {
      counter.count('create', 'secrets');
      return compacted(
        await http.json<V1Secret>(secretsPath(namespace), {
          method: 'POST',
          query: { fieldManager: FIELD_MANAGER },
          contentType: 'application/json',
          body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', ...secret }),
        }),
      );
    },
    async replaceSecret(namespace, secret) {
      counter.count('update', 'secrets');
      return compacted(
        await http.json<V1Secret>(`${secretsPath(namespace)}/${secret.metadata?.name ?? ''}`, {
          method: 'PUT',
          query: { fieldManager: FIELD_MANAGER },
          contentType: 'application/json',
          body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', ...secret }),
        }),
      );
    },
    async patchStatus(resource, namespace, name, status) {
      counter.count('patch', `${resource.plural}/status`);
      return compacted(
        await http.json<unknown>(
          `/apis/${resource.group}/${resource.version}/namespaces/${namespace}/${resource.plural}/${name}/status`,
          {
            method: 'PATCH',
            query: { fieldManager: FIELD_MANAGER },
            contentType: 'application/merge-patch+json',
            body: JSON.stringify({ status }),
          },
        ),
      );
    },
    async createEvent(namespace, event) {
      counter.count('create', 'events');
      await http.json(`/api/v1/namespaces/${namespace}/events`, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Event', ...event }),
      });
    },
    async applyFinalizer(resource, object, finalizer, present) {
      counter.count('patch', resource.plural);
      await http.json(
        `/apis/${resource.group}/${resource.version}/namespaces/${object.namespace}/${resource.plural}/${object.name}`,
        {
          method: 'PATCH',
          query: { fieldManager: FINALIZER_FIELD_MANAGER, force: true },
          contentType: 'application/apply-patch+yaml',
          body: JSON.stringify({
            apiVersion: object.apiVersion,
            kind: object.kind,
            metadata: {
              name: object.name,
              namespace: object.namespace,
              finalizers: present ? [finalizer] : [],
            },
          }),
        },
      );
    },
    async annotatePodTemplate(kind, namespace, name, annotations) {
      const plural = WORKLOAD_PLURALS[kind];
      if (plural === undefined) throw new Error(`cannot restart a ${kind}`);
      counter.count('patch', plural);
      await http.json(`/apis/apps/v1/namespaces/${namespace}/${plural}/${name}`, {
        method: 'PATCH',
        query: { fieldManager: FIELD_MANAGER },
        contentType: 'application/strategic-merge-patch+json',
        body: JSON.stringify({ spec: { template: { metadata: { annotations } } } }),
      });
    },
  };
}
