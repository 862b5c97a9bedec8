// twilio: HTTP basic authentication with an API key (preferred) or the account auth token.
import { twilioDefinition } from './definition.ts';
import { type SecretValue } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { checkShape, invalid, trimmed } from '../../providers/shape.ts';

export const twilioProvider: Provider<'twilio'> = {
  type: 'twilio',
  plan({ credentials }: ProviderInput): Plan {
    const match = matchVariant(twilioDefinition.variants, credentials);
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
