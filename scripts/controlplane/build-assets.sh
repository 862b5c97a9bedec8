#!/usr/bin/env bash
# Builds the real Kubernetes test control plane — kube-apiserver, kube-controller-manager and etcd — and
# helm, from pinned Go modules, once per version, into a cache outside the repository (see README.md).
#
#   build-assets.sh                   prints (last stdout line) the directory with the three binaries
#   build-assets.sh --helm            prints (last stdout line) the path of the helm binary
#   build-assets.sh --health-check    prints (last stdout line) the path of coffre-health (tools/health-check:
#                                     kstatus and an Argo CD Lua VM, what GitOps tools compute from our objects)
#   build-assets.sh --print-versions  prints the pinned versions as NAME=value lines
#   build-assets.sh --update          regenerates the wrapper modules' go.mod/go.sum from the pins below
#
# KUBEBUILDER_ASSETS (as setup-envtest gives) pointing at a folder with kube-apiserver and etcd wins:
# nothing is built. COFFRE_ASSETS_DIR overrides the cache location. Progress goes to stderr.
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
# The etcd that Kubernetes v1.37.2 itself pins: build/dependencies.yaml in the k8s.io/kubernetes@v1.37.2
# module, entry `name: "etcd"`, `version: 3.7.0`. --update re-reads that file and refuses a mismatch.
ETCD_VERSION=v3.7.0
HELM_VERSION=v3.22.0
# What tools/health-check is built with: kstatus as Flux and kpt use it, and the Lua VM Argo CD embeds.
CLI_UTILS_VERSION=v0.37.2
GOPHER_LUA_VERSION=v1.1.2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${COFFRE_ASSETS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/coffre}
[[ $cache_root == /* ]] || cache_root=$PWD/$cache_root
k8s_key=kubernetes-$KUBERNETES_VERSION-etcd-$ETCD_VERSION
k8s_dir=$cache_root/$k8s_key
helm_key=helm-$HELM_VERSION
helm_dir=$cache_root/$helm_key
health_src=$(cd "$here/../../tools/health-check" && pwd)
# Keyed by the pins and by the source: a change to main.go builds anew.
health_key=health-check-cli-utils-$CLI_UTILS_VERSION-gopher-lua-$GOPHER_LUA_VERSION-$(cat "$health_src/go.mod" "$health_src/go.sum" "$health_src/main.go" | sha256sum | cut -c1-12)
health_dir=$cache_root/$health_key
control_plane=(kube-apiserver kube-controller-manager etcd)
started=$SECONDS

log() { printf 'assets [%4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Reproducible, hermetic builds: no cgo, no toolchain switch, hashes only from the committed go.sum files
# (the checksum database is not reachable from every machine), no VCS stamping of the wrapper modules.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOSUMDB=off GOFLAGS="-mod=readonly -buildvcs=false"
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}

tmp_dir=""
cleanup() {
  [[ -n $tmp_dir ]] || return 0
  # A TERM to this script alone (not its process group) must not leave go running for minutes.
  if [[ -f $tmp_dir.pid ]]; then kill "$(cat "$tmp_dir.pid")" 2>/dev/null || true; fi
  rm -rf "$tmp_dir" "$tmp_dir.pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_go() {
  command -v go >/dev/null ||
    die "go not found: install Go >= 1.26 to build the control plane, or point KUBEBUILDER_ASSETS at prebuilt binaries"
  local v
  v=$(go env GOVERSION)
  v=${v#go}
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  ((major > 1 || (major == 1 && minor >= 26))) ||
    die "go $v is too old: Kubernetes $KUBERNETES_VERSION needs Go >= 1.26 (GOTOOLCHAIN=local, no toolchain download)"
}

# `go build -v` prints one line per package it compiles: show a count every 200 instead of a flood.
# Anything else (compiler errors, "# pkg" headers, go: messages) contains a space and is shown as it is.
progress() {
  local what=$1 n=0 line
  while IFS= read -r line; do
    if [[ $line == *' '* || $line == '#'* ]]; then
      printf '%s\n' "$line" >&2
    else
      n=$((n + 1))
      if ((n % 200 == 0)); then log "$what: $n packages compiled"; fi
    fi
  done
  log "$what: $n packages compiled"
}

# go_run <module dir> <go args...>: runs go there, recording its pid for cleanup. Callers run it in the
# background and `wait` for it, so that the INT/TERM traps fire at once instead of after the build.
go_run() {
  local dir=$1
  shift
  (cd "$dir" && echo "$BASHPID" >"$tmp_dir.pid" && exec go "$@" 2>&1)
}

download() { # download <what> <module dir>
  local t0=$SECONDS
  log "$1: downloading modules (go mod download)"
  go_run "$2" mod download >&2 &
  wait $! || die "$1: go mod download failed in $2 (network, or go.sum out of date: run --update)"
  log "$1: modules ready in $((SECONDS - t0))s"
}

gobuild() { # gobuild <what> <module dir> <output> <package> [extra ldflags]
  local what=$1 dir=$2 out=$3 pkg=$4 ldflags=${5:-} t0=$SECONDS
  log "$what: go build $pkg"
  go_run "$dir" build -trimpath -v -ldflags "-s -w $ldflags" -o "$out" "$pkg" | progress "$what" &
  wait $! || die "$what: go build failed (errors above)"
  [[ -x $out ]] || die "$what: go build produced no binary"
  log "$what: built in $((SECONDS - t0))s ($(du -m "$out" | cut -f1) MiB)"
}

expect_version() { # expect_version <binary> <text> <args...>: the built binary must report the pinned version
  local bin=$1 want=$2 out
  shift 2
  out=$("$bin" "$@" 2>&1) || die "$(basename "$bin") $* failed: $out"
  [[ $out == *"$want"* ]] || die "$(basename "$bin") reports '$out', expected $want"
  log "$(basename "$bin") $*: $(head -n1 <<<"$out")"
}

# One builder per cache entry: take the entry's lock, then look again (another caller may have finished it).
lock() { # lock <key>
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.lock-$1"
  if ! flock -n 9; then
    log "another build of $1 is running; waiting for it"
    flock 9
    log "the other build of $1 finished"
  fi
  # Leftovers of an interrupted (killed) build of this entry: nobody else can be using them now.
  rm -rf "$cache_root/.tmp-$1-"*
}

# Builds into a temp dir next to the entry and renames it into place: the entry exists whole or not at all.
new_tmp() { # new_tmp <key>
  tmp_dir=$(mktemp -d "$cache_root/.tmp-$1-XXXXXX")
  chmod 755 "$tmp_dir"
}
commit_tmp() { # commit_tmp <entry dir>
  rm -f "$tmp_dir.pid"
  rm -rf "$1"
  mv "$tmp_dir" "$1"
  tmp_dir=""
}

k8s_complete() {
  local b
  for b in "${control_plane[@]}"; do [[ -x $k8s_dir/$b ]] || return 1; done
}

build_kubernetes() {
  k8s_complete && return 0
  lock "$k8s_key"
  k8s_complete && return 0
  require_go
  log "cold build of Kubernetes $KUBERNETES_VERSION and etcd $ETCD_VERSION into $k8s_dir (many minutes, once per version)"
  new_tmp "$k8s_key"

  download etcd "$here/etcd"
  gobuild etcd "$here/etcd" "$tmp_dir/etcd" . "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
  expect_version "$tmp_dir/etcd" "etcd Version: ${ETCD_VERSION#v}" --version

  # What the release's own build (hack/lib/version.sh) stamps, in both places it stamps it.
  local minor=${KUBERNETES_VERSION#v1.} ldflags="" pkg build_date
  minor=${minor%%.*}
  build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done
  download kubernetes "$here/kubernetes"
  gobuild kube-apiserver "$here/kubernetes" "$tmp_dir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$ldflags"
  expect_version "$tmp_dir/kube-apiserver" "Kubernetes $KUBERNETES_VERSION" --version
  gobuild kube-controller-manager "$here/kubernetes" "$tmp_dir/kube-controller-manager" \
    k8s.io/kubernetes/cmd/kube-controller-manager "$ldflags"
  expect_version "$tmp_dir/kube-controller-manager" "Kubernetes $KUBERNETES_VERSION" --version

  commit_tmp "$k8s_dir"
  log "done in $((SECONDS - started))s: $k8s_dir"
}

build_helm() {
  [[ -x $helm_dir/helm ]] && return 0
  lock "$helm_key"
  [[ -x $helm_dir/helm ]] && return 0
  require_go
  log "cold build of helm $HELM_VERSION into $helm_dir"
  new_tmp "$helm_key"
  download helm "$here/helm"
  gobuild helm "$here/helm" "$tmp_dir/helm" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  expect_version "$tmp_dir/helm" "$HELM_VERSION" version --short
  commit_tmp "$helm_dir"
  log "done in $((SECONDS - started))s: $helm_dir/helm"
}

build_health_check() {
  [[ -x $health_dir/coffre-health ]] && return 0
  lock "$health_key"
  [[ -x $health_dir/coffre-health ]] && return 0
  require_go
  grep -q "sigs.k8s.io/cli-utils $CLI_UTILS_VERSION\$" "$health_src/go.mod" &&
    grep -q "github.com/yuin/gopher-lua $GOPHER_LUA_VERSION\$" "$health_src/go.mod" ||
    die "tools/health-check/go.mod does not require cli-utils $CLI_UTILS_VERSION and gopher-lua $GOPHER_LUA_VERSION: run --update"
  log "build of coffre-health (cli-utils $CLI_UTILS_VERSION, gopher-lua $GOPHER_LUA_VERSION) into $health_dir"
  new_tmp "$health_key"
  download health-check "$health_src"
  gobuild health-check "$health_src" "$tmp_dir/coffre-health" .
  commit_tmp "$health_dir"
  log "done in $((SECONDS - started))s: $health_dir/coffre-health"
}

# --update: regenerate the three wrapper modules from the pins above. Hashes come from the module proxy
# (trust on first use, as the checksum database is off); review and commit the go.mod/go.sum diff.
update_modules() {
  require_go
  export GOFLAGS=-buildvcs=false
  local work json mod_file mod_dir staging go_line pinned_etcd
  work=$(mktemp -d)
  tmp_dir=$work
  log "reading k8s.io/kubernetes@$KUBERNETES_VERSION's own go.mod and build/dependencies.yaml"
  json=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION") ||
    die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
  mod_file=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  mod_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -f $mod_file && -d $mod_dir ]] || die "go mod download -json gave no GoMod/Dir: $json"

  pinned_etcd=$(awk '/^[[:space:]]*- name: "etcd"[[:space:]]*$/ { found = 1; next }
                     found && /^[[:space:]]*version:/ { print $2; exit }' "$mod_dir/build/dependencies.yaml")
  [[ -n $pinned_etcd ]] || die "no etcd entry in $mod_dir/build/dependencies.yaml"
  [[ v${pinned_etcd#v} == "$ETCD_VERSION" ]] ||
    die "Kubernetes $KUBERNETES_VERSION pins etcd $pinned_etcd (build/dependencies.yaml): set ETCD_VERSION=v${pinned_etcd#v} in $0 and rerun --update"
  log "Kubernetes $KUBERNETES_VERSION pins etcd $pinned_etcd: matches ETCD_VERSION"

  # k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and
  # replaces them with ./staging paths, which a dependent module cannot see: replace each with v0.X.Y.
  staging=v0.${KUBERNETES_VERSION#v1.}
  go_line=$(awk '$1 == "go" { print; exit }' "$mod_file")
  {
    echo "// Generated by build-assets.sh --update from k8s.io/kubernetes@$KUBERNETES_VERSION's own go.mod: do not edit."
    echo "module coffre.dev/controlplane-assets/kubernetes"
    echo
    echo "$go_line"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "// k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths;"
    echo "// a dependent module must replace them with the published versions instead."
    echo "replace ("
    awk -v v="$staging" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { printf "\t%s => %s %s\n", $1, $1, v }' "$mod_file" | sort -u
    echo ")"
  } >"$here/kubernetes/go.mod"
  grep -q '=>' "$here/kubernetes/go.mod" || die "found no staging modules in $mod_file"
  : >"$here/kubernetes/go.sum"
  log "kubernetes: $(grep -c '=>' "$here/kubernetes/go.mod") staging modules replaced with $staging; go mod tidy"
  (cd "$here/kubernetes" && go mod tidy) || die "go mod tidy failed in $here/kubernetes"

  log "etcd: go get go.etcd.io/etcd/server/v3@$ETCD_VERSION; go mod tidy"
  (cd "$here/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy) || die "updating $here/etcd failed"
  log "helm: go get helm.sh/helm/v3@$HELM_VERSION; go mod tidy"
  (cd "$here/helm" && go get "helm.sh/helm/v3@$HELM_VERSION" && go mod tidy) || die "updating $here/helm failed"
  log "health-check: go get sigs.k8s.io/cli-utils@$CLI_UTILS_VERSION github.com/yuin/gopher-lua@$GOPHER_LUA_VERSION; go mod tidy"
  (cd "$health_src" && go get "sigs.k8s.io/cli-utils@$CLI_UTILS_VERSION" "github.com/yuin/gopher-lua@$GOPHER_LUA_VERSION" &&
    go mod tidy) || die "updating $health_src failed"
  log "wrapper modules updated: review and commit scripts/controlplane/*/go.{mod,sum} and tools/health-check/go.{mod,sum}"
}

case ${1:-} in
  --print-versions)
    echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
    echo "ETCD_VERSION=$ETCD_VERSION"
    echo "HELM_VERSION=$HELM_VERSION"
    echo "CLI_UTILS_VERSION=$CLI_UTILS_VERSION"
    echo "GOPHER_LUA_VERSION=$GOPHER_LUA_VERSION"
    ;;
  --update)
    update_modules
    ;;
  --helm)
    build_helm
    echo "$helm_dir/helm"
    ;;
  --health-check)
    build_health_check
    echo "$health_dir/coffre-health"
    ;;
  "")
    if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
      dir=$(cd "$KUBEBUILDER_ASSETS" 2>/dev/null && pwd) || die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS is not a directory"
      [[ -x $dir/kube-apiserver && -x $dir/etcd ]] ||
        die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no kube-apiserver or etcd (unset it to build them)"
      [[ -x $dir/kube-controller-manager ]] ||
        log "KUBEBUILDER_ASSETS has no kube-controller-manager: garbage collection and namespace deletion will not run"
      log "using KUBEBUILDER_ASSETS=$dir; building nothing"
      echo "$dir"
      exit 0
    fi
    build_kubernetes
    echo "$k8s_dir"
    ;;
  -h | --help)
    sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
    ;;
  *)
    die "unknown argument '$1' (try --help)"
    ;;
esac
