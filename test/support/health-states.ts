// What Flux (kstatus) and Argo CD (charts/coffre/files/argocd-health.lua) make of each state of a
// connection: the table of docs/gitops.md#health, held here once. test/integration/health/ brings real
// objects into each state and checks them against it; test/unit/docs/gitops-health.test.ts keeps the
// document's table equal to this one.

export interface HealthState {
  /** As the first column of the document says it. */
  state: string;
  kind: 'VaultConnection' | 'OAuthClient';
  /** `True TokenValid`, or `—` for no condition. */
  ready: string;
  reconciling: string;
  stalled: string;
  kstatus: 'InProgress' | 'Current' | 'Failed' | 'Terminating';
  argocd: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
}

export const healthStates: readonly HealthState[] = [
  {
    state: 'created, not yet seen by coffre',
    kind: 'VaultConnection',
    ready: '—',
    reconciling: '—',
    stalled: '—',
    kstatus: 'InProgress',
    argocd: 'Progressing',
  },
  {
    state: 'first token being requested',
    kind: 'VaultConnection',
    ready: 'Unknown Reconciling',
    reconciling: 'True Reconciling',
    stalled: 'False Reconciling',
    kstatus: 'InProgress',
    argocd: 'Progressing',
  },
  {
    state: 'Ready',
    kind: 'VaultConnection',
    ready: 'True TokenValid',
    reconciling: 'False TokenValid',
    stalled: 'False TokenValid',
    kstatus: 'Current',
    argocd: 'Healthy',
  },
  {
    state: 'renewing a valid token',
    kind: 'VaultConnection',
    ready: 'True TokenValid',
    reconciling: 'True Renewing',
    stalled: 'False Renewing',
    kstatus: 'InProgress',
    argocd: 'Healthy',
  },
  {
    state: 'renewal failing, token still valid',
    kind: 'VaultConnection',
    ready: 'True RenewalFailing',
    reconciling: 'True ServerError',
    stalled: 'False ServerError',
    kstatus: 'InProgress',
    argocd: 'Progressing',
  },
  {
    state: 'Expired (endpoint down)',
    kind: 'VaultConnection',
    ready: 'False EndpointUnreachable',
    reconciling: 'True EndpointUnreachable',
    stalled: 'False EndpointUnreachable',
    kstatus: 'InProgress',
    argocd: 'Degraded',
  },
  {
    state: 'Empty (Secret not there yet)',
    kind: 'VaultConnection',
    ready: 'False SecretNotFound',
    reconciling: 'False SecretNotFound',
    stalled: 'False SecretNotFound',
    kstatus: 'InProgress',
    argocd: 'Suspended',
  },
  {
    state: 'terminal error (invalid_client)',
    kind: 'VaultConnection',
    ready: 'False InvalidClient',
    reconciling: 'False InvalidClient',
    stalled: 'True InvalidClient',
    kstatus: 'Failed',
    argocd: 'Degraded',
  },
  {
    state: 'spec changed, not yet seen by coffre',
    kind: 'VaultConnection',
    ready: 'True TokenValid',
    reconciling: 'False TokenValid',
    stalled: 'False TokenValid',
    kstatus: 'InProgress',
    argocd: 'Progressing',
  },
  {
    state: 'being deleted',
    kind: 'VaultConnection',
    ready: 'True TokenValid',
    reconciling: 'False TokenValid',
    stalled: 'False TokenValid',
    kstatus: 'Terminating',
    argocd: 'Progressing',
  },
  {
    state: 'OAuthClient Ready',
    kind: 'OAuthClient',
    ready: 'True ClientReady',
    reconciling: 'False ClientReady',
    stalled: 'False ClientReady',
    kstatus: 'Current',
    argocd: 'Healthy',
  },
  {
    state: 'OAuthClient Empty',
    kind: 'OAuthClient',
    ready: 'False SecretNotFound',
    reconciling: 'False SecretNotFound',
    stalled: 'False SecretNotFound',
    kstatus: 'InProgress',
    argocd: 'Suspended',
  },
];

/** The table's cells as docs/gitops.md shows them, one array per state. */
export function healthStateCells(): string[][] {
  return healthStates.map((s) => [s.state, s.ready, s.reconciling, s.stalled, s.kstatus, s.argocd]);
}

export const HEALTH_TABLE_HEADER = ['State', 'Ready', 'Reconciling', 'Stalled', 'kstatus (Flux)', 'Argo CD'];
