#!/usr/bin/env bash
# Make sure a toxiproxy server binary exists in .cache/bin, building it from the Go module proxy
# if absent. Prints the binary's path on stdout (progress goes to stderr). Idempotent: a cached
# binary of the pinned version is reused, so only the first run on a machine pays for the build.
# `make chaos` and the short chaos profile in the test suite inject network faults with it.
#
#   TOXIPROXY_VERSION   toxiproxy release to build (default below)
#   TOXIPROXY_BIN_DIR   where to install (default <repo>/.cache/bin)
set -euo pipefail

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.5.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${TOXIPROXY_BIN_DIR:-$root/.cache/bin}"
server="$bin_dir/toxiproxy-server"
stamp="$bin_dir/.toxiproxy-version"

if [[ -x "$server" && -f "$stamp" && "$(cat "$stamp")" == "$TOXIPROXY_VERSION" ]]; then
  echo "$server"
  exit 0
fi

# a Go installed from go.dev's tarball is often not on a non-login shell's PATH
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-toxiproxy: 'go' is not on PATH; install Go >= 1.22 to build toxiproxy $TOXIPROXY_VERSION" >&2
  exit 1
fi

mkdir -p "$bin_dir"
echo "ensure-toxiproxy: building toxiproxy $TOXIPROXY_VERSION from the Go module proxy (first run only)..." >&2
start=$(date +%s)
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
tmp_bin="$(mktemp -d)"
trap 'rm -rf "$tmp_bin"' EXIT
GOBIN="$tmp_bin" go install -trimpath -ldflags "-s -w" \
  "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}" >&2
mv -f "$tmp_bin/server" "$server"
echo "$TOXIPROXY_VERSION" >"$stamp"
echo "ensure-toxiproxy: built $server in $(( $(date +%s) - start ))s" >&2
echo "$server"
