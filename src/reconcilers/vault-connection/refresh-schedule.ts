// When to renew a token: a pure function of the token's lifetime and the connection's refresh settings.
// Jitter is derived from a seed (the connection's UID and the token's issue time), not from Math.random,
// so a restarted operator computes the same schedule and writes nothing (a quiet restart), while tokens
// issued together are still renewed at spread-out moments.
import { createHash } from 'node:crypto';
import type { RefreshSettings } from '../../api/v1alpha1/vault-connection.ts';

export const DEFAULT_RENEW_BEFORE_PERCENTAGE = 33;
/** renewBefore is capped at this share of the lifetime, so a short-lived token is not renewed continuously. */
export const MAX_RENEW_BEFORE_SHARE = 2 / 3;
/** Jitter spreads renewals over up to this share of the renewal window, always earlier, never later. */
export const JITTER_SHARE = 0.1;
/**
 * Renew at least this long before expiry (at most half the lifetime): a margin for a busy operator
 * and a slow token endpoint that a percentage of a very short lifetime would not give.
 */
export const MIN_RENEW_WINDOW_MS = 1000;
/** Never renew sooner than this after issue, whatever the settings (no hot loop on tiny lifetimes). */
export const MIN_TOKEN_AGE_MS = 500;

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration (`90s`, `1h30m`, `250ms`) into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    if (match.index !== consumed) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  return consumed === text.length && consumed > 0 && Number.isFinite(total) ? total : undefined;
}

/** A number in [0, 1) derived from the seed. */
export function jitterFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

export interface ScheduleInput {
  issuedAt: number;
  expiresAt: number;
  settings: RefreshSettings | undefined;
  jitterSeed: string;
}

/** The renewal window: how long before expiry renewal starts (before jitter). */
export function renewalWindowMs(lifetimeMs: number, settings: RefreshSettings | undefined): number {
  const renewBefore = settings?.renewBefore === undefined ? undefined : parseDuration(settings.renewBefore);
  const requested =
    renewBefore !== undefined
      ? Math.min(renewBefore, lifetimeMs * MAX_RENEW_BEFORE_SHARE)
      : (lifetimeMs * (settings?.renewBeforePercentage ?? DEFAULT_RENEW_BEFORE_PERCENTAGE)) / 100;
  return Math.max(requested, Math.min(MIN_RENEW_WINDOW_MS, lifetimeMs / 2));
}

/** The moment to renew, in epoch milliseconds. */
export function nextRefreshAt(input: ScheduleInput): number {
  const lifetime = input.expiresAt - input.issuedAt;
  if (lifetime <= 0) return input.issuedAt;
  const window = renewalWindowMs(lifetime, input.settings);
  const jitter = window * JITTER_SHARE * jitterFraction(input.jitterSeed);
  const earliest = input.issuedAt + Math.min(MIN_TOKEN_AGE_MS, lifetime / 2);
  return Math.max(earliest, Math.round(input.expiresAt - window - jitter));
}
