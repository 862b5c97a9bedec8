// shopify, whole: the definition (settings, keys read and published), the provider and the token adapter.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { shopifyDefinition } from './definition.ts';
import { shopifyProvider } from './provider.ts';
import { shopifyTokenAdapter } from './token-adapter.ts';

export const shopify = {
  definition: shopifyDefinition,
  provider: shopifyProvider,
  tokenAdapter: shopifyTokenAdapter,
} satisfies ConnectionTypeModule<'shopify'>;
