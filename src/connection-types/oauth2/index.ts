// oauth2, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { oauth2Definition } from './definition.ts';
import { oauth2Provider } from './provider.ts';

export const oauth2 = {
  definition: oauth2Definition,
  provider: oauth2Provider,
} satisfies ConnectionTypeModule<'oauth2'>;
