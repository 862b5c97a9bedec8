// zendesk, whole: the definition (settings, keys read and published), the provider and the token adapter.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { zendeskDefinition } from './definition.ts';
import { zendeskProvider } from './provider.ts';
import { zendeskTokenAdapter } from './token-adapter.ts';

export const zendesk = {
  definition: zendeskDefinition,
  provider: zendeskProvider,
  tokenAdapter: zendeskTokenAdapter,
} satisfies ConnectionTypeModule<'zendesk'>;
