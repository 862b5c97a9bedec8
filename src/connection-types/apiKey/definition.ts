// apiKey: the settings block and the keys read and published.
import { defineConnectionType, emptySettings } from '../definition.ts';

export const apiKeyDefinition = defineConnectionType({
  type: 'apiKey',
  summary: 'A plain API key.',
  settings: { schema: emptySettings('apiKey', 'None yet.'), required: false },
  tokens: 'never',
  variants: [{ name: 'api-key', keys: ['apiKey'], description: 'The key.' }],
  oauthClient: 'no',
  published: { api_key: 'The key.' },
});
