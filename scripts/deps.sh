#!/usr/bin/env bash
# Install the Debian packages mcz needs to build and test, if any is missing.
# A no-op (well under a second) when everything is present. Run as root (or with sudo).
set -euo pipefail

pkgs=(gcc libc6-dev make cmake pkg-config libzstd-dev libprotobuf-c-dev protobuf-c-compiler
      libonnx-dev check libonnx-testdata zstd xz-utils ca-certificates groff-base bsdutils)

missing=()
for p in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $st == installed ]] || missing+=("$p")
done
# Node runs the ONNX Runtime harness (tests/ort). Any node will do: only if there is none is
# Debian's `nodejs` installed.
command -v node >/dev/null 2>&1 || missing+=(nodejs)

if ((${#missing[@]} == 0)) && command -v npm >/dev/null 2>&1; then
    exit 0
fi

sudo=()
if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps.sh: not root and no sudo; needed: ${missing[*]} npm" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
updated=
apt_install() {
    echo "deps.sh: installing: $*"
    [[ -n $updated ]] || { "${sudo[@]}" apt-get update -q; updated=1; }
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" </dev/null
}

((${#missing[@]} == 0)) || apt_install "${missing[@]}"
# Nodesource's nodejs includes npm (and conflicts with Debian's npm package); Debian's nodejs
# does not. So Debian's npm is asked for only when node is there and npm is not.
command -v npm >/dev/null 2>&1 || apt_install npm
