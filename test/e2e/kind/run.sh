#!/usr/bin/env bash
# coffre end to end on kind (needs Docker, kind, helm and kubectl): builds the image from the Dockerfile,
# loads it into a kind cluster, installs the chart with it, and runs THE SAME end-to-end suites as
# `npm test` (test/integration/operator) against the operator running in the cluster
# (COFFRE_E2E_OPERATOR=external). Tests that need their own operator flags (a local OAuth server's CA,
# an SSRF allowlist, API base URLs) are skipped, each saying why; the local suites cover them.
#
#   test/e2e/kind/run.sh                 create the cluster, run, delete the cluster
#   KEEP_CLUSTER=true test/e2e/kind/run.sh   keep it afterwards (and reuse it next time)
#
# Environment: KIND_CLUSTER_NAME (coffre-e2e), KIND_NODE_IMAGE (kind's default), IMAGE (coffre:e2e),
# ALLOWED_CIDRS (none: the static connection suites reach no token endpoint).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

cluster=${KIND_CLUSTER_NAME:-coffre-e2e}
image=${IMAGE:-coffre:e2e}
keep=${KEEP_CLUSTER:-false}
namespace=coffre-system
started=$SECONDS

log() { printf 'e2e [%4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
for tool in docker kind helm kubectl; do
  command -v "$tool" >/dev/null || {
    log "error: $tool not found"
    exit 1
  }
done
[[ -x node_modules/.bin/vitest && -x node_modules/.bin/node ]] || {
  log "error: run npm ci first"
  exit 1
}

log "building $image"
docker build --tag "$image" .

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "reusing kind cluster $cluster"
else
  log "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --config test/e2e/kind/kind-config.yaml --wait 180s \
    ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
fi
kubeconfig=$(mktemp)
cleanup() {
  status=$?
  if ((status != 0)); then
    log "failed: operator state and logs follow"
    KUBECONFIG=$kubeconfig kubectl -n "$namespace" get deploy,pods,lease -o wide || true
    KUBECONFIG=$kubeconfig kubectl -n "$namespace" logs -l app.kubernetes.io/name=coffre --tail=100 --prefix || true
  fi
  rm -f "$kubeconfig"
  if [[ $keep != true ]]; then
    log "deleting kind cluster $cluster"
    kind delete cluster --name "$cluster" || true
  fi
  exit "$status"
}
trap cleanup EXIT
kind get kubeconfig --name "$cluster" >"$kubeconfig"
export KUBECONFIG=$kubeconfig

log "loading $image into the cluster"
kind load docker-image "$image" --name "$cluster"

# The namespace as manifests/install.yaml creates it: pods must meet the restricted pod security level.
kubectl create namespace "$namespace" --dry-run=client --output yaml | kubectl apply --server-side -f -
kubectl label namespace "$namespace" --overwrite \
  pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted

log "installing the chart"
set_cidrs=()
if [[ -n ${ALLOWED_CIDRS:-} ]]; then set_cidrs=(--set "operator.allowedCIDRs={$ALLOWED_CIDRS}"); fi
helm upgrade --install coffre charts/coffre --namespace "$namespace" \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
  --set operator.logLevel=debug "${set_cidrs[@]}" \
  --wait --timeout 5m
kubectl -n "$namespace" rollout status deployment/coffre --timeout 2m
kubectl -n "$namespace" get lease coffre-leader -o jsonpath='leader: {.spec.holderIdentity}{"\n"}'

log "running the end-to-end suites against the in-cluster operator"
COFFRE_E2E_OPERATOR=external npx vitest run --project integration test/integration/operator "$@"
log "passed"
