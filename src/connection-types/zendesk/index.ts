// zendesk, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { zendeskDefinition } from './definition.ts';
import { zendeskProvider } from './provider.ts';

export const zendesk = {
  definition: zendeskDefinition,
  provider: zendeskProvider,
} satisfies ConnectionTypeModule<'zendesk'>;
