import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  computeExpiresAt,
  DEFAULT_MAX_LIFETIME_MS,
  parseExpiresIn,
  parseScope,
} from '../../../src/oauth/expiry.ts';

const issuedAt = Date.parse('2026-11-22T12:00:00Z');
const key = new TextEncoder().encode('k'.repeat(32));

async function jwt(claims: { exp?: number; iat?: number }): Promise<string> {
  const token = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
  if (claims.exp !== undefined) token.setExpirationTime(claims.exp);
  if (claims.iat !== undefined) token.setIssuedAt(claims.iat);
  return token.sign(key);
}

describe('computeExpiresAt', () => {
  it('counts expires_in from the moment the request was sent', () => {
    expect(computeExpiresAt({ expiresIn: 3600, accessToken: 'opaque', issuedAt })).toBe(issuedAt + 3_600_000);
  });

  it.each<[string, unknown, number | undefined]>([
    ['a numeric string', '120', issuedAt + 120_000],
    ['a fractional number', 1.5, issuedAt + 1_500],
    ['zero as unknown', 0, undefined],
    ['a negative number as unknown', -5, undefined],
    ['garbage as unknown', 'soon', undefined],
    ['NaN as unknown', Number.NaN, undefined],
    ['absent as unknown', undefined, undefined],
    ['an absurd lifetime capped', 10 ** 12, issuedAt + DEFAULT_MAX_LIFETIME_MS],
  ])('reads expires_in given as %s', (_name, expiresIn, expected) => {
    expect(computeExpiresAt({ expiresIn, accessToken: 'opaque', issuedAt })).toBe(expected);
  });

  it('falls back to the JWT lifetime (exp - iat) from issuedAt, immune to server clock skew', async () => {
    const serverNow = issuedAt / 1000 + 300; // the server's clock runs 5 minutes ahead
    const token = await jwt({ iat: serverNow, exp: serverNow + 2 });
    expect(computeExpiresAt({ expiresIn: undefined, accessToken: token, issuedAt })).toBe(issuedAt + 2_000);
  });

  it('falls back to the JWT exp when there is no iat', async () => {
    const token = await jwt({ exp: issuedAt / 1000 + 60 });
    expect(computeExpiresAt({ expiresIn: undefined, accessToken: token, issuedAt })).toBe(issuedAt + 60_000);
  });

  it('never puts a JWT expiry before the request', async () => {
    const token = await jwt({ exp: issuedAt / 1000 - 60 });
    expect(computeExpiresAt({ expiresIn: undefined, accessToken: token, issuedAt })).toBe(issuedAt);
  });

  it('prefers expires_in over the JWT exp', async () => {
    const token = await jwt({ exp: issuedAt / 1000 + 600 });
    expect(computeExpiresAt({ expiresIn: 60, accessToken: token, issuedAt })).toBe(issuedAt + 60_000);
  });

  it('takes an earlier JWT exp over expires_in: whole-second stamps from a truncated iat', async () => {
    // Sent at 12:00:00.900; the server stamped iat 12:00:00 and exp 12:00:02, and said expires_in 2.
    const sent = issuedAt + 900;
    const token = await jwt({ iat: issuedAt / 1000, exp: issuedAt / 1000 + 2 });
    expect(computeExpiresAt({ expiresIn: 2, accessToken: token, issuedAt: sent })).toBe(issuedAt + 2000);
  });

  it('ignores a JWT exp that lies before the request (a clock far off) and keeps expires_in', async () => {
    const token = await jwt({ exp: issuedAt / 1000 - 600 });
    expect(computeExpiresAt({ expiresIn: 60, accessToken: token, issuedAt })).toBe(issuedAt + 60_000);
  });

  it('knows nothing for an opaque token without expires_in', () => {
    expect(computeExpiresAt({ expiresIn: undefined, accessToken: 'a.b.c', issuedAt })).toBeUndefined();
    expect(computeExpiresAt({ expiresIn: undefined, accessToken: 'opaque', issuedAt })).toBeUndefined();
  });
});

describe('parseExpiresIn', () => {
  it('accepts positive finite seconds only', () => {
    expect(parseExpiresIn(30)).toBe(30);
    expect(parseExpiresIn(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseExpiresIn('1e3')).toBeUndefined();
  });
});

describe('parseScope', () => {
  it.each<[string, unknown, string[] | undefined]>([
    ['space-separated scopes', 'read:users  create:users', ['read:users', 'create:users']],
    ['duplicates once', 'a b a', ['a', 'b']],
    ['an empty string as no scopes', '', []],
    ['absent as unknown', undefined, undefined],
    ['a non-string as unknown', ['a'], undefined],
  ])('parses %s', (_name, value, expected) => {
    expect(parseScope(value)).toEqual(expected);
  });

  it('splits Slack scopes on commas', () => {
    expect(parseScope('chat:write,channels:read', /[ ,]+/)).toEqual(['chat:write', 'channels:read']);
  });
});
