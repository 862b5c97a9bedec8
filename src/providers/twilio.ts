// twilio: HTTP basic authentication with an API key (preferred) or the account auth token.
import { connectionTypes } from '../api/v1alpha1/connection-types.ts';
import { type SecretValue } from '../secrets/secret-value.ts';
import { matchVariant } from './credentials.ts';
import type { Plan, Provider, ProviderInput } from './provider.ts';
import { checkShape, invalid, trimmed } from './shape.ts';

export const twilioProvider: Provider = {
  type: 'twilio',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(connectionTypes.twilio.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    const accountSid = trimmed(match.values, 'accountSid');
    const problems = [
      checkShape(
        'accountSid',
        accountSid,
        /^AC[0-9a-fA-F]{32}$/,
        'must be an account SID (AC followed by 32 hex digits)',
      ),
    ];
    let username = accountSid;
    let password: SecretValue;
    if (match.variant.name === 'api-key') {
      username = trimmed(match.values, 'apiKeySid');
      password = trimmed(match.values, 'apiKeySecret');
      problems.push(
        checkShape(
          'apiKeySid',
          username,
          /^SK[0-9a-fA-F]{32}$/,
          'must be an API key SID (SK followed by 32 hex digits)',
        ),
      );
    } else {
      password = trimmed(match.values, 'authToken');
    }
    const problem = problems.find((p) => p !== undefined);
    if (problem !== undefined) return invalid(problem);
    return {
      kind: 'static',
      variant: match.variant.name,
      data: new Map([
        ['account_sid', accountSid],
        ['username', username],
        ['password', password],
      ]),
    };
  },
};
