// A token adapter: the token client for a vendor whose endpoint openid-client cannot use (Slack, Shopify,
// Zendesk, Twilio).
// Adapters live with their connection type (src/connection-types/<type>/token-adapter.ts) and are given
// to the engine by the composition root; a request names its adapter by `flavour`.
import type { AdapterContext } from './adapters/json-post.ts';
import type { TokenRequest, TokenSet } from './types.ts';

export type { AdapterContext } from './adapters/json-post.ts';

export interface TokenAdapter {
  /** The `TokenRequest.flavour` this adapter serves; never `standard` (openid-client's). */
  flavour: string;
  /** Where the request goes, known before any network request (labels, the rate budget, resolveClient). */
  tokenEndpoint: (request: TokenRequest) => URL;
  /** Sends the request; failures are OAuthErrors. */
  requestToken: (context: AdapterContext, request: TokenRequest) => Promise<TokenSet>;
}
