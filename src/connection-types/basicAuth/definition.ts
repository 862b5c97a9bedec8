// basicAuth: the settings block and the keys read and published.
import { defineConnectionType, emptySettings } from '../definition.ts';

export const basicAuthDefinition = defineConnectionType({
  type: 'basicAuth',
  summary: 'A user name and password for HTTP basic authentication.',
  settings: { schema: emptySettings('basicAuth', 'None yet.'), required: false },
  tokens: 'never',
  variants: [{ name: 'basic', keys: ['username', 'password'], description: 'User name and password.' }],
  oauthClient: 'no',
  published: {
    username: 'The user name.',
    password: 'The password.',
    authorization: 'The ready-made header value `Basic base64(username:password)`.',
  },
});
