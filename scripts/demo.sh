#!/usr/bin/env bash
# A short tour of mcz: make a sample model, then look inside it. Run by `make demo` after the
# build; the files it makes go to a temporary folder that is removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${MCZ_BUILD:-$root/build}/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcz-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "${*#"$root/"}"; "$@"; }

say "1. Generate a sample model: a multi-layer perceptron with about 4 MB of float32 weights."
run "$bin/mcz-sample" mlp --size 4M -o "$tmp/mlp.onnx"
printf '   wrote %s (%s bytes)\n' "$tmp/mlp.onnx" "$(stat -c %s "$tmp/mlp.onnx")"

say "2. Inspect it: a summary of the model (graph, inputs, outputs, weights)."
run "$bin/mcz-inspect" "$tmp/mlp.onnx"

say "3. The weights one by one: name, type, shape, where the data lives, bytes."
run "$bin/mcz-inspect" "$tmp/mlp.onnx" --tensors

say "Done. The sample was generated and inspected; $tmp is removed now."
