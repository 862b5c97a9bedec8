// bearerToken, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { bearerTokenDefinition } from './definition.ts';
import { bearerTokenProvider } from './provider.ts';

export const bearerToken = {
  definition: bearerTokenDefinition,
  provider: bearerTokenProvider,
} satisfies ConnectionTypeModule<'bearerToken'>;
