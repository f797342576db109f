#!/usr/bin/env bash
# A short tour of mcz: make a sample model, then look inside it. Run by `make demo` after the
# build; the files it makes go to a temporary folder that is removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${MCZ_BUILD:-$root/build}/bin
if [ -n "${MCZ_DEMO_DIR:-}" ]; then # kept, for tests/demo/truth.sh
  tmp=$MCZ_DEMO_DIR
  mkdir -p "$tmp"
else
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcz-demo.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
fi

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "${*#"$root/"}"; "$@"; }
# run_into FILTER CMD...: the command line as typed, filter included, then the filtered output
run_into() { local filter=$1; shift; printf '$ %s | %s\n' "${*#"$root/"}" "$filter"; "$@" | bash -c "$filter"; }

say "1. Generate a sample model: a multi-layer perceptron with about 4 MB of float32 weights."
run "$bin/mcz-sample" mlp --size 4M -o "$tmp/mlp.onnx"
printf '   wrote %s (%s bytes)\n' "$tmp/mlp.onnx" "$(stat -c %s "$tmp/mlp.onnx")"

say "2. Inspect it: a summary of the model (graph, inputs, outputs, weights)."
run "$bin/mcz-inspect" "$tmp/mlp.onnx"

say "3. The weights one by one: name, type, shape, where the data lives, bytes."
run "$bin/mcz-inspect" "$tmp/mlp.onnx" --tensors

say "4. Prune: the 50 % smallest weights of each layer become zero."
run "$bin/mcz-prune" "$tmp/mlp.onnx" --sparsity 0.5 -o "$tmp/pruned.onnx"

say "5. Quantize the pruned model to int8 per channel and pack it into an .mcz container."
run "$bin/mcz-quantize" "$tmp/pruned.onnx" -o "$tmp/small.mcz"

say "6. Pack the original losslessly too, and compare sizes."
run "$bin/mcz-pack" "$tmp/mlp.onnx" -o "$tmp/mlp.mcz"
printf '   %-28s %10s bytes\n' "original mlp.onnx" "$(stat -c %s "$tmp/mlp.onnx")" \
  "lossless mlp.mcz" "$(stat -c %s "$tmp/mlp.mcz")" \
  "pruned + int8 small.mcz" "$(stat -c %s "$tmp/small.mcz")"

say "7. Check the artifact: decode every payload, verify every checksum."
run "$bin/mcz-inspect" "$tmp/small.mcz" --verify

say "8. Partition the model into 3 parts that load in parallel and run in sequence."
run "$bin/mcz-partition" "$tmp/mlp.onnx" --parts 3 -o "$tmp/parts/"
echo "   The same split as one container (each weight stored once), and what it holds:"
run "$bin/mcz-partition" "$tmp/mlp.onnx" --parts 3 -q -o "$tmp/parts.mcz"
run_into "sed -n '/^partitions:/,\$p'" "$bin/mcz-inspect" "$tmp/parts.mcz"

say "9. Load the lossless .mcz with the loader library alone and run the MLP's forward pass."
run_into "head -5" "$bin/mlp-forward" "$tmp/mlp.mcz" 0.5
echo "   (first 5 outputs)"

say "Done. Generated, inspected, pruned, quantized, packed, verified, partitioned and loaded; $tmp is removed now."
