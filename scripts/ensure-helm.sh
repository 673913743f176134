#!/usr/bin/env bash
# Make sure a helm binary exists in .cache/bin, building it from the Go module proxy if absent.
# Prints the binary's path on stdout (progress goes to stderr). Idempotent: a cached binary of
# the pinned version is reused, so only the first run on a machine pays for the build.
#
#   HELM_VERSION   helm release to build (default below)
#   HELM_BIN_DIR   where to install (default <repo>/.cache/bin)
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${HELM_BIN_DIR:-$root/.cache/bin}"
helm="$bin_dir/helm"
stamp="$bin_dir/.helm-version"

if [[ -x "$helm" && -f "$stamp" && "$(cat "$stamp")" == "$HELM_VERSION" ]]; then
  echo "$helm"
  exit 0
fi

# a Go installed from go.dev's tarball is often not on a non-login shell's PATH
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-helm: 'go' is not on PATH; install Go >= 1.24 to build helm $HELM_VERSION" >&2
  exit 1
fi

mkdir -p "$bin_dir"
echo "ensure-helm: building helm $HELM_VERSION from the Go module proxy (first run only)..." >&2
start=$(date +%s)
# helm's release Makefile stamps its version and the Kubernetes version it models via ldflags;
# do the same so `helm version` and the default .Capabilities.KubeVersion are right.
pkg="helm.sh/helm/v3"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
gomod="$(go mod download -json "${pkg}@${HELM_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")"
if [[ -z "$k8s_minor" ]]; then
  echo "ensure-helm: cannot read the client-go version from $gomod" >&2
  exit 1
fi
ldflags="-s -w -X ${pkg}/internal/version.version=${HELM_VERSION} -X ${pkg}/internal/version.gitTreeState=clean"
for p in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X ${pkg}/${p}.k8sVersionMajor=1 -X ${pkg}/${p}.k8sVersionMinor=${k8s_minor}"
done
tmp_bin="$(mktemp -d)"
trap 'rm -rf "$tmp_bin"' EXIT
GOBIN="$tmp_bin" go install -trimpath -ldflags "$ldflags" "${pkg}/cmd/helm@${HELM_VERSION}" >&2
mv -f "$tmp_bin/helm" "$helm"
echo "$HELM_VERSION" >"$stamp"
echo "ensure-helm: built $helm in $(( $(date +%s) - start ))s" >&2
echo "$helm"
