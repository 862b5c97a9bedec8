import { describe, expect, it } from 'vitest';
import { Reason, reasonCatalogue } from '../../../src/api/v1alpha1/conditions.ts';
import { OAuthErrorCodes } from '../../../src/oauth/index.ts';
import { reasonForTokenError } from '../../../src/reconcilers/vault-connection/token-errors.ts';

describe('reasonForTokenError', () => {
  it.each(OAuthErrorCodes)('should give the OAuth code %s a documented reason', (code) => {
    expect(Object.keys(reasonCatalogue)).toContain(reasonForTokenError(code));
  });

  it.each([
    ['invalid_target', Reason.InvalidTarget],
    ['invalid_scope', Reason.InvalidScope],
    ['timeout', Reason.EndpointUnreachable],
    ['oauth_error', Reason.TokenRequestFailed],
    ['state_conflict', Reason.TokenRequestFailed],
    ['toString', Reason.TokenRequestFailed],
  ])('should map %s to %s', (code, reason) => {
    expect(reasonForTokenError(code)).toBe(reason);
  });
});
