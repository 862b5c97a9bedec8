// slack: the settings block and the keys read and published.
import { defineConnectionType, emptySettings, tokenKeys } from '../definition.ts';

export const slackDefinition = defineConnectionType({
  type: 'slack',
  summary:
    'Slack Web API: a bot token, or rotating tokens (token rotation on) renewed through oauth.v2.access with the refresh token.',
  settings: { schema: emptySettings('slack', 'None yet.'), required: false },
  tokens: 'variant',
  variants: [
    {
      name: 'rotating',
      keys: ['clientId', 'clientSecret', 'refreshToken'],
      description: 'App client ID and secret and the refresh token (xoxe-...); tokens live 12 hours.',
    },
    { name: 'bot-token', keys: ['botToken'], description: 'A bot token (xoxb-...), without expiry.' },
  ],
  oauthClient: 'no',
  published: tokenKeys,
});
