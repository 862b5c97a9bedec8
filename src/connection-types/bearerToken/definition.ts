// bearerToken: the settings block and the keys read and published.
import { defineConnectionType, emptySettings } from '../definition.ts';

export const bearerTokenDefinition = defineConnectionType({
  type: 'bearerToken',
  summary: 'A static bearer token.',
  settings: { schema: emptySettings('bearerToken', 'None yet.'), required: false },
  tokens: 'never',
  variants: [{ name: 'token', keys: ['token'], description: 'The token.' }],
  oauthClient: 'no',
  published: { access_token: 'The token.', token_type: '`Bearer`.' },
});
