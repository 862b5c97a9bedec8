// auth0, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { auth0Definition } from './definition.ts';
import { auth0Provider } from './provider.ts';

export const auth0 = {
  definition: auth0Definition,
  provider: auth0Provider,
} satisfies ConnectionTypeModule<'auth0'>;
