// The API group and version, in a leaf module: the schemas need the group (RBAC markers on references)
// and resources.ts, which imports the schemas, re-exports it.
export const GROUP = 'coffre.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
