// Where the operator under test runs. By default each end-to-end test starts its own, in-process, as the
// chart's ServiceAccount. COFFRE_E2E_OPERATOR=external: the operator is already running in the cluster
// (test/e2e/kind/run.sh installs it with Helm) and the tests only drive the API.

export function isExternalOperator(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.COFFRE_E2E_OPERATOR === 'external';
}
