// Every default of the controller runtime, in one place, and the factory that applies them.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import { Controller, type ControllerObserver, type ControllerOptions } from './controller.ts';
import { Informer, withoutManagedFields, type InformerObserver, type InformerOptions } from './informer.ts';
import { createKubeHttp, type KubeHttp } from './kube-http.ts';
import type { KubeObject } from './types.ts';

export const runtimeDefaults = {
  /** Objects per list page. */
  pageSize: 500,
  /** Server-side watch timeout (each watch picks between this and twice this), like client-go. */
  watchTimeoutSeconds: 300,
  /** Reconnect backoff of a failing list/watch. */
  informerBackoffBaseMs: 800,
  informerBackoffMaxMs: 30_000,
  /** Retry backoff of a failing reconcile, per key. */
  reconcileBackoffBaseMs: 500,
  reconcileBackoffMaxMs: 300_000,
  workers: 4,
} as const;

export interface RuntimeContext {
  clock: Clock;
  logger: Logger;
  /** Random source in [0, 1) for jitter. */
  random: () => number;
  informerObserver?: InformerObserver;
  controllerObserver?: ControllerObserver;
}

type InformerSpec<T extends KubeObject> = Pick<
  InformerOptions<T>,
  'name' | 'resource' | 'namespace' | 'labelSelector' | 'fieldSelector' | 'metadataOnly' | 'transform'
> &
  Partial<Pick<InformerOptions<T>, 'pageSize' | 'watchTimeoutSeconds'>>;

type ControllerSpec<T extends KubeObject> = Pick<ControllerOptions<T>, 'name' | 'informer' | 'reconciler'> &
  Partial<Pick<ControllerOptions<T>, 'workers' | 'shouldReconcileUpdate' | 'backoffBaseMs' | 'backoffMaxMs'>>;

export class Runtime {
  readonly http: KubeHttp;
  readonly #context: RuntimeContext;

  constructor(kc: KubeConfig, context: RuntimeContext) {
    this.http = createKubeHttp(kc);
    this.#context = context;
  }

  informer<T extends KubeObject>(spec: InformerSpec<T>): Informer<T> {
    const { clock, logger, random, informerObserver } = this.#context;
    return new Informer<T>({
      pageSize: runtimeDefaults.pageSize,
      watchTimeoutSeconds: runtimeDefaults.watchTimeoutSeconds,
      backoffBaseMs: runtimeDefaults.informerBackoffBaseMs,
      backoffMaxMs: runtimeDefaults.informerBackoffMaxMs,
      transform: withoutManagedFields,
      ...spec,
      http: this.http,
      random,
      clock,
      logger,
      ...(informerObserver === undefined ? {} : { observer: informerObserver }),
    });
  }

  controller<T extends KubeObject>(spec: ControllerSpec<T>): Controller<T> {
    const { clock, logger, random, controllerObserver } = this.#context;
    return new Controller<T>({
      workers: runtimeDefaults.workers,
      backoffBaseMs: runtimeDefaults.reconcileBackoffBaseMs,
      backoffMaxMs: runtimeDefaults.reconcileBackoffMaxMs,
      ...spec,
      random,
      clock,
      logger,
      ...(controllerObserver === undefined ? {} : { observer: controllerObserver }),
    });
  }
}
