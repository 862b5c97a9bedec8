// When an access token expires and what it grants, from a token response. Pure.
// - `expires_in` (seconds, RFC 6749) counted from `issuedAt`, the moment the request was sent, so the
//   expiry is never later than the server meant, however long the round trip took — or the JWT's own
//   `exp` when that is earlier (whole seconds from a truncated `iat`);
// - else the JWT access token's own `exp` (read, not verified: we are its bearer, not its audience),
//   as the lifetime `exp - iat` from `issuedAt` when `iat` is there (immune to clock skew), else `exp`;
// - else unknown.
// Absurd values are clamped: non-positive or unparsable lifetimes are ignored, long ones capped.
import { decodeJwt } from 'jose';

export const DEFAULT_MAX_LIFETIME_MS = 366 * 24 * 60 * 60 * 1000;

export interface ExpiryInput {
  /** The response's expires_in as sent (number, numeric string, or anything else). */
  expiresIn: unknown;
  /** The access token, to read a JWT `exp` from when expires_in is missing. */
  accessToken: string;
  /** Epoch ms when the request was sent. */
  issuedAt: number;
  maxLifetimeMs?: number;
}

/** Epoch ms of expiry, or undefined when neither the response nor the token says. */
export function computeExpiresAt(input: ExpiryInput): number | undefined {
  const max = input.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
  const fromResponse = parseExpiresIn(input.expiresIn);
  const claims = jwtTimes(input.accessToken);
  if (fromResponse !== undefined) {
    const counted = input.issuedAt + Math.min(fromResponse * 1000, max);
    // Servers stamp `exp` in whole seconds from a truncated `iat`: the token may die up to a second
    // before issuedAt + expires_in. Take the JWT's own exp when it is earlier and plausible (after the
    // request was sent; a clock far off would otherwise make it absurd).
    const exp = claims?.exp === undefined ? undefined : claims.exp * 1000;
    return exp !== undefined && exp > input.issuedAt && exp < counted ? exp : counted;
  }
  if (claims?.exp === undefined) return undefined;
  if (claims.iat !== undefined && claims.exp > claims.iat) {
    return input.issuedAt + Math.min((claims.exp - claims.iat) * 1000, max);
  }
  const exp = claims.exp * 1000;
  return Math.min(Math.max(exp, input.issuedAt), input.issuedAt + max);
}

/** Positive seconds, or undefined for missing, non-numeric, zero or negative values. */
export function parseExpiresIn(value: unknown): number | undefined {
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d{1,12}(?:\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

function jwtTimes(token: string): { exp?: number; iat?: number } | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp, iat } = decodeJwt(token);
    return {
      ...(typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? { exp } : {}),
      ...(typeof iat === 'number' && Number.isFinite(iat) && iat > 0 ? { iat } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Granted scopes from a space-separated `scope` (RFC 6749 §3.3; Slack separates with commas), in the
 * server's order without duplicates; undefined when the server did not say.
 */
export function parseScope(value: unknown, separator: RegExp = / +/): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return [...new Set(value.split(separator).filter((scope) => scope !== ''))];
}
