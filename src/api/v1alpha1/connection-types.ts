// The connection types as the API describes them (the values of spec.type; per type the keys read and
// published and the facts), re-exported from their one source, src/connection-types/definitions.ts,
// for readers of the API such as the kubectl plugin. Nothing here is written per type.
export {
  ConnectionTypes,
  connectionTypes,
  type ConnectionType,
  type ConnectionTypeDefinition,
  type CredentialVariant,
} from '../../connection-types/definitions.ts';
