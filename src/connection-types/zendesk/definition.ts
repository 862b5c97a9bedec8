// zendesk: the settings block and the keys read and published.
import { Type, type Static } from '@sinclair/typebox';
import { DNS_LABEL_PATTERN, strictObject } from '../../api/v1alpha1/schema-kit.ts';
import { defineConnectionType } from '../definition.ts';

const ZendeskSettingsSchema = Type.Object(
  {
    subdomain: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL_PATTERN,
      description: 'The Zendesk subdomain: `acme` for https://acme.zendesk.com.',
    }),
  },
  { ...strictObject, description: 'Settings of a `zendesk` connection.' },
);
export type ZendeskSettings = Static<typeof ZendeskSettingsSchema>;

export const zendeskDefinition = defineConnectionType({
  type: 'zendesk',
  summary: 'Zendesk API: an agent email with an API token (basic authentication), or an OAuth access token.',
  settings: { schema: ZendeskSettingsSchema, required: true },
  tokens: 'never',
  variants: [
    {
      name: 'api-token',
      keys: ['email', 'apiToken'],
      description: 'Agent email and API token; published as basic-auth `{email}/token` and the token.',
    },
    { name: 'oauth-token', keys: ['accessToken'], description: 'An OAuth access token.' },
  ],
  oauthClient: 'no',
  published: {
    base_url: 'https://{subdomain}.zendesk.com',
    username: 'api-token: `{email}/token`.',
    password: 'api-token: the API token.',
    access_token: 'oauth-token: the token.',
    token_type: 'oauth-token: `Bearer`.',
  },
});
