// twilio, whole: the definition (settings, keys read and published), the provider and the token adapter.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { twilioDefinition } from './definition.ts';
import { twilioProvider } from './provider.ts';
import { twilioTokenAdapter } from './token-adapter.ts';

export const twilio = {
  definition: twilioDefinition,
  provider: twilioProvider,
  tokenAdapter: twilioTokenAdapter,
} satisfies ConnectionTypeModule<'twilio'>;
