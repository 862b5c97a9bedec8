// twilio: HTTP basic authentication with an API key (preferred) or the account auth token, or Bearer
// tokens minted for an OAuth app with the client credentials grant.
import { twilioDefinition } from './definition.ts';
import { twilioTokenAdapter } from './token-adapter.ts';
import { type SecretValue } from '../../secrets/secret-value.ts';
import { matchVariant } from '../../providers/credentials.ts';
import type { Plan, Provider, ProviderInput } from '../../providers/provider.ts';
import { publishToken } from '../../providers/publish-token.ts';
import { checkShape, invalid, NO_INNER_WHITESPACE, trimmed } from '../../providers/shape.ts';

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const ACCOUNT_SID_EXPECTED = 'must be an account SID (AC followed by 32 hex digits)';

export const twilioProvider: Provider<'twilio'> = {
  type: 'twilio',
  plan({ credentials, config }: ProviderInput): Plan {
    const match = matchVariant(twilioDefinition.variants, credentials);
    if (!match.ok) return { kind: 'missing', keys: match.missing, variant: match.variantName };
    if (match.variant.name === 'oauth-app') return oauthAppPlan(match.values, config.twilioOAuthBaseUrl);
    const accountSid = trimmed(match.values, 'accountSid');
    const problems = [checkShape('accountSid', accountSid, ACCOUNT_SID, ACCOUNT_SID_EXPECTED)];
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

function oauthAppPlan(values: ReadonlyMap<string, SecretValue>, baseUrl: string): Plan {
  const clientId = trimmed(values, 'clientId');
  const accountSid = values.has('accountSid') ? trimmed(values, 'accountSid') : undefined;
  const problem =
    checkShape('clientId', clientId, NO_INNER_WHITESPACE, 'must not contain whitespace') ??
    (accountSid === undefined
      ? undefined
      : checkShape('accountSid', accountSid, ACCOUNT_SID, ACCOUNT_SID_EXPECTED));
  if (problem !== undefined) return invalid(problem);
  const base = baseUrl.replace(/\/+$/, '');
  return {
    kind: 'token',
    variant: 'oauth-app',
    request: {
      client: {
        issuer: new URL(base).origin,
        tokenEndpoint: `${base}/v2/token`,
        authMethod: 'client_secret_post',
        clientId: clientId.reveal(),
        clientSecret: trimmed(values, 'clientSecret'),
      },
      grant: { type: 'client_credentials' },
      flavour: twilioTokenAdapter.flavour,
    },
    publish: (token) =>
      new Map([
        ...(accountSid === undefined ? [] : [['account_sid', accountSid] as const]),
        ...publishToken(token),
      ]),
  };
}
