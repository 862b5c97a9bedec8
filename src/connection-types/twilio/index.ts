// twilio, whole: the definition (settings, keys read and published) and the provider.
import type { ConnectionTypeModule } from '../connection-type.ts';
import { twilioDefinition } from './definition.ts';
import { twilioProvider } from './provider.ts';

export const twilio = {
  definition: twilioDefinition,
  provider: twilioProvider,
} satisfies ConnectionTypeModule<'twilio'>;
