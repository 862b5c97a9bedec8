// The providers by connection type, derived from the connection-type registry the composition root uses.
import type { ConnectionType } from '../connection-types/definitions.ts';
import { connectionTypeRegistry, type ConnectionTypeRegistry } from '../connection-types/registry.ts';
import type { Provider } from './provider.ts';

export type ProviderRegistry = Readonly<Record<ConnectionType, Provider>>;

export function createProviderRegistry(
  registry: ConnectionTypeRegistry = connectionTypeRegistry,
): ProviderRegistry {
  return Object.fromEntries(
    Object.entries(registry).map(([type, module]) => [type, module.provider]),
  ) as Record<ConnectionType, Provider>;
}
