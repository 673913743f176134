#!/usr/bin/env bash
# Make sure a Go tool's binary exists in .cache/bin, building it from the Go module proxy if
# absent. Prints the binary's path on stdout (progress goes to stderr). Idempotent: a cached
# binary of the pinned version is reused, so only the first run on a machine pays for the build.
#
#   scripts/ensure-go-tool.sh helm        helm, for the chart tests (`make helm`)
#   scripts/ensure-go-tool.sh toxiproxy   toxiproxy's server, for the chaos runs (`make toxiproxy`)
#   scripts/ensure-go-tool.sh vegeta      vegeta, the open-loop HTTP load generator of the bench (`make vegeta`)
#
#   HELM_VERSION, TOXIPROXY_VERSION, VEGETA_VERSION   release to build (defaults below)
#   HELM_BIN_DIR, TOXIPROXY_BIN_DIR, VEGETA_BIN_DIR   where to install (default <repo>/.cache/bin)
set -euo pipefail
shopt -s inherit_errexit  # a failing step inside $(...) fails the script too

tool="${1:-}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$tool" in
  helm)
    version="${HELM_VERSION:-v3.22.0}"
    bin_dir="${HELM_BIN_DIR:-$root/.cache/bin}"
    package="helm.sh/helm/v3/cmd/helm" built="helm" installed="helm" go_version="1.24"
    ;;
  toxiproxy)
    version="${TOXIPROXY_VERSION:-v2.5.0}"
    bin_dir="${TOXIPROXY_BIN_DIR:-$root/.cache/bin}"
    package="github.com/Shopify/toxiproxy/v2/cmd/server" built="server" installed="toxiproxy-server"
    go_version="1.22"
    ;;
  vegeta)
    version="${VEGETA_VERSION:-v12.13.0}"
    bin_dir="${VEGETA_BIN_DIR:-$root/.cache/bin}"
    package="github.com/tsenart/vegeta/v12" built="vegeta" installed="vegeta" go_version="1.22"
    ;;
  *)
    echo "usage: $0 helm|toxiproxy|vegeta" >&2
    exit 2
    ;;
esac
me="ensure-go-tool $tool"
binary="$bin_dir/$installed"
stamp="$bin_dir/.$tool-version"

if [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
  echo "$binary"
  exit 0
fi

# a Go installed from go.dev's tarball is often not on a non-login shell's PATH
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "$me: 'go' is not on PATH; install Go >= $go_version to build $tool $version" >&2
  exit 1
fi

# helm's release Makefile stamps its version and the Kubernetes version it models via ldflags;
# do the same so `helm version` and the default .Capabilities.KubeVersion are right.
helm_ldflags() {
  local module="helm.sh/helm/v3" gomod k8s_minor flags p
  gomod="$(go mod download -json "${module}@${version}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")"
  if [[ -z "$k8s_minor" ]]; then
    echo "$me: cannot read the client-go version from $gomod" >&2
    return 1
  fi
  flags="-X ${module}/internal/version.version=${version} -X ${module}/internal/version.gitTreeState=clean"
  for p in pkg/chartutil pkg/lint/rules; do
    flags+=" -X ${module}/${p}.k8sVersionMajor=1 -X ${module}/${p}.k8sVersionMinor=${k8s_minor}"
  done
  echo "$flags"
}

mkdir -p "$bin_dir"
echo "$me: building $tool $version from the Go module proxy (first run only)..." >&2
start=$(date +%s)
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
ldflags="-s -w"
if [[ "$tool" == helm ]]; then
  ldflags+=" $(helm_ldflags)"
fi
tmp_bin="$(mktemp -d)"
trap 'rm -rf "$tmp_bin"' EXIT
GOBIN="$tmp_bin" go install -trimpath -ldflags "$ldflags" "${package}@${version}" >&2
mv -f "$tmp_bin/$built" "$binary"
echo "$version" >"$stamp"
echo "$me: built $binary in $(( $(date +%s) - start ))s" >&2
echo "$binary"
