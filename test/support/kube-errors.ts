// Reads the Status an API server sent with a failed request, as @kubernetes/client-node reports it.
import { ApiException } from '@kubernetes/client-node';

export interface ApiStatus {
  code: number;
  reason?: string;
  message: string;
}

export function apiStatusOf(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = typeof error.body === 'string' ? safeParse(error.body) : error.body;
  const status = (body ?? {}) as { message?: string; reason?: string };
  return {
    code: error.code,
    message: status.message ?? error.message,
    ...(status.reason ? { reason: status.reason } : {}),
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** Runs fn and returns the API status it failed with; throws if it succeeded. */
export async function expectApiError(fn: () => Promise<unknown>): Promise<ApiStatus> {
  try {
    await fn();
  } catch (error) {
    const status = apiStatusOf(error);
    if (status === undefined) throw error;
    return status;
  }
  throw new Error('expected the API server to refuse the request, but it accepted it');
}
