// In-memory stand-ins for the Kubernetes port and the Event recorder: they record what a reconciler
// asked for, so a test can say "patched once" or "no Event".
import type { V1Secret } from '@kubernetes/client-node';
import { KubeApiError } from '../../../../src/controller/kube-http.ts';
import type { KubePort } from '../../../../src/kube/kube-port.ts';
import type { EventRecorder, EventTarget, EventType } from '../../../../src/observability/events.ts';

export interface RecordedEvent {
  target: EventTarget;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeEvents implements EventRecorder {
  readonly recorded: RecordedEvent[] = [];

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    this.recorded.push({ target, type, reason, message });
  }

  get summary(): string[] {
    return this.recorded.map((e) => `${e.type} ${e.reason}`);
  }
}

export class FakeKubePort implements KubePort {
  readonly secrets = new Map<string, V1Secret>();
  readonly patches: { name: string; status: unknown }[] = [];
  readonly writes: string[] = [];
  /** Objects whose status may be patched, by `namespace/name`: a patch answers with the whole object. */
  readonly objects = new Map<string, { metadata?: object; status?: unknown }>();
  #version = 100;

  getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return Promise.resolve(this.secrets.get(`${namespace}/${name}`));
  }

  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const key = `${namespace}/${secret.metadata?.name ?? ''}`;
    if (this.secrets.has(key)) return Promise.reject(new KubeApiError(409, 'AlreadyExists', 'exists'));
    this.writes.push(`create ${key}`);
    return Promise.resolve(this.#store(key, secret));
  }

  replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const key = `${namespace}/${secret.metadata?.name ?? ''}`;
    this.writes.push(`replace ${key}`);
    return Promise.resolve(this.#store(key, secret));
  }

  patchStatus(_resource: unknown, namespace: string, name: string, status: unknown): Promise<unknown> {
    this.patches.push({ name, status });
    const object = this.objects.get(`${namespace}/${name}`) ?? {};
    // A JSON merge patch of status' top-level fields, as the API server applies it: null removes.
    const merged = Object.fromEntries(
      Object.entries({ ...(object.status as object | undefined), ...(status as object) }).filter(
        ([, value]) => value !== null,
      ),
    );
    const stored = {
      ...object,
      metadata: { ...object.metadata, namespace, name, resourceVersion: String(++this.#version) },
      status: merged,
    };
    this.objects.set(`${namespace}/${name}`, stored);
    return Promise.resolve(stored);
  }

  createEvent(): Promise<void> {
    return Promise.resolve();
  }

  applyFinalizer(
    _resource: unknown,
    object: { namespace: string; name: string },
    finalizer: string,
    present: boolean,
  ): Promise<void> {
    this.writes.push(
      `${present ? 'add' : 'remove'} finalizer ${finalizer} ${object.namespace}/${object.name}`,
    );
    return Promise.resolve();
  }

  annotatePodTemplate(kind: string, namespace: string, name: string): Promise<void> {
    this.writes.push(`restart ${kind} ${namespace}/${name}`);
    return Promise.resolve();
  }

  #store(key: string, secret: V1Secret): V1Secret {
    const stored = { ...secret, metadata: { ...secret.metadata, resourceVersion: String(++this.#version) } };
    this.secrets.set(key, stored);
    return stored;
  }
}
