// The base of every error coffre raises: a stable code (decisions key on it, never on message text),
// whether retrying can help, and the underlying cause. Messages never contain secret material or raw
// response bodies. The catalogue of codes lives beside each module's error classes and in docs.

export interface CoffreErrorOptions {
  cause?: unknown;
  /** Whether retrying the same operation later can succeed without a human. */
  retryable: boolean;
  /** Earliest useful retry, in milliseconds from now (e.g. from Retry-After). */
  retryAfterMs?: number;
}

export class CoffreError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: CoffreErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
