// twilio: the settings block and the keys read and published.
import { defineConnectionType, emptySettings, tokenKeys } from '../definition.ts';

export const twilioDefinition = defineConnectionType({
  type: 'twilio',
  summary:
    'Twilio REST API: HTTP basic authentication with an API key or the account auth token, or Bearer access tokens minted for an OAuth app (client credentials at https://oauth.twilio.com/v2/token, renewed before their hour is up).',
  settings: { schema: emptySettings('twilio', 'None yet.'), required: false },
  tokens: 'variant',
  variants: [
    {
      name: 'api-key',
      keys: ['accountSid', 'apiKeySid', 'apiKeySecret'],
      description:
        'Account SID (AC...), API key SID (SK...) and secret. Preferred for basic auth: keys can be revoked one by one.',
    },
    {
      name: 'auth-token',
      keys: ['accountSid', 'authToken'],
      description: 'Account SID (AC...) and the primary auth token.',
    },
    {
      name: 'oauth-app',
      keys: ['clientId', 'clientSecret'],
      optionalKeys: ['accountSid'],
      description:
        'Client ID and secret of an OAuth app (Console: Account settings, OAuth apps); `accountSid`, if present, is published for the REST URLs. Tokens live 3,600 s.',
    },
  ],
  oauthClient: 'no',
  published: {
    account_sid: 'The account SID (OAuth app: only when the Secret has `accountSid`).',
    username: 'Basic-auth user: the API key SID, or the account SID.',
    password: 'Basic-auth password: the API key secret, or the auth token.',
    access_token: 'OAuth app: the access token.',
    token_type: 'OAuth app: `Bearer`.',
    expires_at: tokenKeys.expires_at,
  },
});
