// How long a server asks us to wait, from Retry-After (RFC 9110: delay-seconds or an HTTP-date) or,
// failing that, the rate-limit reset headers vendors send (x-ratelimit-reset: epoch seconds at GitHub,
// Auth0 and Shopify, delta seconds elsewhere; ratelimit-reset: delta seconds in the IETF draft).
// Pure: the caller passes the current time. The result is clamped so a hostile value cannot park a
// host forever.

export const DEFAULT_MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Numbers at or above this are epoch seconds (2001-09-09), below it delta seconds. */
const EPOCH_SECONDS_THRESHOLD = 1e9;
/** Numbers at or above this are epoch milliseconds. */
const EPOCH_MILLISECONDS_THRESHOLD = 1e12;

const DELAY_SECONDS = /^\d{1,12}$/;
const DECIMAL = /^\d{1,16}(?:\.\d{1,6})?$/;

export interface HeaderSource {
  get(name: string): string | null;
}

/** Milliseconds to wait from `nowMs`, or undefined when the headers say nothing usable. */
export function parseRetryAfter(
  headers: HeaderSource,
  nowMs: number,
  maxMs: number = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  const delay =
    retryAfterHeader(headers.get('retry-after'), nowMs) ??
    rateLimitReset(headers.get('x-ratelimit-reset'), nowMs) ??
    deltaSeconds(headers.get('ratelimit-reset'));
  return delay === undefined ? undefined : Math.min(Math.max(0, Math.ceil(delay)), maxMs);
}

function retryAfterHeader(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (DELAY_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse also reads); must name a weekday or month,
  // so that stray numbers are not read as years.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? at - nowMs : undefined;
}

function rateLimitReset(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const number = Number(trimmed);
  if (number >= EPOCH_MILLISECONDS_THRESHOLD) return number - nowMs;
  if (number >= EPOCH_SECONDS_THRESHOLD) return number * 1000 - nowMs;
  return number * 1000;
}

function deltaSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) * 1000 : undefined;
}
