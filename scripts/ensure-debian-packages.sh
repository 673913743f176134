#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing (once; quiet when
# they are there). The test suite needs libfaketime (package `faketime`) to run its
# date-sensitive tests as if it were another day.
set -euo pipefail

missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "ensure-debian-packages: no apt-get here; install ${missing[*]} (or its equivalent) yourself" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "ensure-debian-packages: root is needed to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "ensure-debian-packages: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
