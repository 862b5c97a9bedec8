// What @kubernetes/client-node's config.js imports from its generated index, from the two small modules
// that define it (see kube-config.ts).
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
