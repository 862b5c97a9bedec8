// basicAuth, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { basicAuthDefinition } from './definition.ts';
import { basicAuthProvider } from './provider.ts';

export const basicAuth = {
  definition: basicAuthDefinition,
  provider: basicAuthProvider,
} satisfies ConnectionTypeModule<'basicAuth'>;
