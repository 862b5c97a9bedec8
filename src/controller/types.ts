// The reconciler contract, after controller-runtime's pkg/reconcile: a request names one object; the
// result can only ask to run again later. A thrown retryable error is retried with per-key backoff; a
// TerminalError (any CoffreError with retryable=false) is recorded and not retried until the object, or
// something mapped to it, changes.
import type { Logger } from '../observability/logger.ts';
import { CoffreError } from '../errors.ts';

/** Names one object. `namespace` is '' for cluster-scoped objects. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /**
   * Run again after this many milliseconds (e.g. the next token renewal); 0 means as soon as possible.
   * Replaces the error backoff and resets the key's failure count.
   */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /**
   * Aborted when the controller stops past its shutdown deadline, loses leadership, or the reconcile
   * exceeds its timeout: stop work and start no new writes.
   */
  signal: AbortSignal;
  /** Carries controller, namespace, name and a per-attempt reconcileId. */
  logger: Logger;
}

export interface Reconciler {
  // `void` lets a reconciler that never requeues be a plain `async reconcile() { ... }`.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  reconcile(request: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined | void>;
  /**
   * Work the reconciler runs outside its reconciles (token requests on the wire): at shutdown, after
   * the reconciles have drained, resolves once it has finished or once `withinMs` has passed. Resolves
   * true when it finished.
   */
  drain?(withinMs: number): Promise<boolean>;
}

/** An error that retrying cannot fix (invalid spec, forbidden reference): the key waits for a change. */
export class TerminalError extends CoffreError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: false, ...(cause === undefined ? {} : { cause }) });
  }
}

/** Terminal means "a CoffreError that says retrying cannot help"; anything unknown is retried. */
export function isTerminal(error: unknown): boolean {
  return error instanceof CoffreError && !error.retryable;
}

/** The minimum delay before a retry that the error itself asks for (e.g. Retry-After), if any. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof CoffreError ? error.retryAfterMs : undefined;
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function toKey(key: ObjectKey): string {
  return key.namespace === '' ? key.name : `${key.namespace}/${key.name}`;
}

export function fromKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The minimal shape of a Kubernetes object the runtime reads. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    managedFields?: unknown;
  };
}

export function objectKey(object: KubeObject): string {
  return toKey({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}

/** The API group of an apiVersion: '' for the core group ("v1"), "apps" for "apps/v1". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
