export * from './conditions.ts';
export * from './connection-types.ts';
export * from './metadata-keys.ts';
export * from './oauth-client.ts';
export * from './references.ts';
export * from './resources.ts';
export * from './vault-connection.ts';
