// The providers by connection type, built by the composition root (no self-registration).
import type { ConnectionType } from '../api/v1alpha1/connection-types.ts';
import { apiKeyProvider } from './api-key.ts';
import { auth0Provider } from './auth0.ts';
import { basicAuthProvider } from './basic-auth.ts';
import { bearerTokenProvider } from './bearer-token.ts';
import { oauth2Provider } from './oauth2.ts';
import type { Provider } from './provider.ts';
import { shopifyProvider } from './shopify.ts';
import { slackProvider } from './slack.ts';
import { twilioProvider } from './twilio.ts';
import { zendeskProvider } from './zendesk.ts';

export type ProviderRegistry = Readonly<Record<ConnectionType, Provider>>;

export function createProviderRegistry(): ProviderRegistry {
  return {
    auth0: auth0Provider,
    oauth2: oauth2Provider,
    twilio: twilioProvider,
    slack: slackProvider,
    shopify: shopifyProvider,
    zendesk: zendeskProvider,
    apiKey: apiKeyProvider,
    bearerToken: bearerTokenProvider,
    basicAuth: basicAuthProvider,
  };
}
