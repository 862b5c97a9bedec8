// slack, whole: the definition (settings, keys read and published), the provider and the token adapter.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { slackDefinition } from './definition.ts';
import { slackProvider } from './provider.ts';
import { slackTokenAdapter } from './token-adapter.ts';

export const slack = {
  definition: slackDefinition,
  provider: slackProvider,
  tokenAdapter: slackTokenAdapter,
} satisfies ConnectionTypeModule<'slack'>;
