// The reconciler contract, after controller-runtime: a request names one object; the result can only
// ask to run again later. Retryable errors are retried with per-key backoff; a TerminalError is
// recorded and not retried until the object (or something mapped to it) changes.
import type { Logger } from '../observability/logger.ts';
import { CoffreError } from '../errors.ts';

export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Run again after this many milliseconds (e.g. the next token renewal). Resets the key's backoff. */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Aborted when the controller stops or loses leadership: stop work, do not start new writes. */
  signal: AbortSignal;
  logger: Logger;
  /** 0 for the first attempt since the last success; counts consecutive failures. */
  retries: number;
}

export interface Reconciler {
  reconcile(request: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined>;
}

/** An error that retrying cannot fix; the key waits for a change instead of a retry. */
export class TerminalError extends CoffreError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: false, ...(cause === undefined ? {} : { cause }) });
  }
}

export function isTerminal(error: unknown): boolean {
  return error instanceof CoffreError && !error.retryable;
}

/** The minimum time before a retry that the error itself asks for (e.g. Retry-After), if any. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof CoffreError ? error.retryAfterMs : undefined;
}

export function toKey(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}

export function fromKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
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
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string | Date;
    managedFields?: unknown;
  };
}

export function objectKey(object: KubeObject): string {
  return toKey({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}
