// apiKey, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { apiKeyDefinition } from './definition.ts';
import { apiKeyProvider } from './provider.ts';

export const apiKey = {
  definition: apiKeyDefinition,
  provider: apiKeyProvider,
} satisfies ConnectionTypeModule<'apiKey'>;
