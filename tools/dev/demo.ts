// The demo connections `npm run dev` applies: an Auth0-style client-credentials connection against the
// local OAuth server (short-lived tokens, so refreshes are visible), an empty connection waiting for
// its Secret, and a static API key.

export const DEMO_NAMESPACE = 'demo';
/** The operator's namespace, as the chart installs it (the record key Secret lives there). */
export const OPERATOR_NAMESPACE = 'coffre-system';
export const DEMO_CLIENT_ID = 'demo-m2m';
export const DEMO_CLIENT_SECRET = 'demo-m2m-secret-not-for-production';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

/** The demo objects, for an OAuth server at `domain` (host:port). */
export function demoManifests(domain: string): Manifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'auth0-m2m' },
      stringData: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET },
    },
    {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'auth0-management' },
      spec: {
        type: 'auth0',
        credentialsRef: { name: 'auth0-m2m' },
        auth0: { domain, scopes: ['read:users'] },
      },
    },
    {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'crm' },
      spec: { type: 'apiKey', credentialsRef: { name: 'crm' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maps-key' },
      stringData: { apiKey: 'demo-maps-api-key' },
    },
    {
      apiVersion: 'coffre.dev/v1alpha1',
      kind: 'VaultConnection',
      metadata: { name: 'maps' },
      spec: {
        type: 'apiKey',
        credentialsRef: { name: 'maps-key' },
        target: { template: { data: { 'X-Api-Key': '{{ .api_key }}' } } },
      },
    },
  ];
}

/** What the demo converges to: connection name -> [condition type, status]. */
export const DEMO_EXPECTATIONS: Record<string, [string, string]> = {
  'auth0-management': ['Ready', 'True'],
  crm: ['Empty', 'True'],
  maps: ['Ready', 'True'],
};
