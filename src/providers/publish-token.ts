// The standard keys a token is published under (see the type's definition.ts).
import type { TokenSet } from '../oauth/index.ts';
import { formatTime } from '../reconcilers/conditions.ts';
import { secret, type SecretValue } from '../secrets/secret-value.ts';

/** The standard published keys of a token (see the type's definition.ts). */
export function publishToken(token: TokenSet, defaultType = 'Bearer'): Map<string, SecretValue> {
  const data = new Map<string, SecretValue>([
    ['access_token', token.accessToken],
    ['token_type', secret(token.tokenType === '' ? defaultType : token.tokenType)],
  ]);
  if (token.expiresAt !== undefined) data.set('expires_at', secret(formatTime(token.expiresAt)));
  if (token.grantedScopes !== undefined && token.grantedScopes.length > 0) {
    data.set('scope', secret(token.grantedScopes.join(' ')));
  }
  return data;
}
