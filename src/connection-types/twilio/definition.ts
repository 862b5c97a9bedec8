// twilio: the settings block and the keys read and published.
import { defineConnectionType, emptySettings } from '../definition.ts';

export const twilioDefinition = defineConnectionType({
  type: 'twilio',
  summary: 'Twilio REST API with HTTP basic authentication: the account SID and auth token, or an API key.',
  settings: { schema: emptySettings('twilio', 'None yet.'), required: false },
  tokens: 'never',
  variants: [
    {
      name: 'api-key',
      keys: ['accountSid', 'apiKeySid', 'apiKeySecret'],
      description:
        'Account SID (AC...), API key SID (SK...) and secret. Preferred: keys can be revoked one by one.',
    },
    {
      name: 'auth-token',
      keys: ['accountSid', 'authToken'],
      description: 'Account SID (AC...) and the primary auth token.',
    },
  ],
  oauthClient: 'no',
  published: {
    account_sid: 'The account SID.',
    username: 'Basic-auth user: the API key SID, or the account SID.',
    password: 'Basic-auth password: the API key secret, or the auth token.',
  },
});
