#!/usr/bin/env bash
# Every generated sample model runs in ONNX Runtime, and import -> export keeps its outputs
# identical, for every family, element type and weight placement; external data both kept
# and forced. usage: run.sh BIN_DIR OUT_DIR
set -euo pipefail
bin=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"
list=$out/list.tsv
: > "$list"
for family in mlp cnn transformer; do
  for dtype in float32 float16 bfloat16; do
    for weights in initializer constant if external; do
      base=$out/$family-$dtype-$weights
      "$bin/mcz-sample" "$family" --size 1M --dtype "$dtype" --weights "$weights" -q -o "$base.onnx"
      "$bin/sample-resave" "$base.onnx" "$base.resaved.onnx"
      printf '%s\t%s\n' "$base.onnx" "$base.resaved.onnx" >> "$list"
      if [ "$weights" = initializer ]; then
        "$bin/sample-resave" "$base.onnx" "$base.external.onnx" external
        [ -s "$base.external.onnx.data" ] || { echo "no external data file for $base"; exit 1; }
        printf '%s\t%s\n' "$base.onnx" "$base.external.onnx" >> "$list"
      fi
      if [ "$weights" = external ]; then
        "$bin/sample-resave" "$base.onnx" "$base.inline.onnx" inline
        [ ! -e "$base.inline.onnx.data" ] || { echo "inline export wrote external data"; exit 1; }
        printf '%s\t%s\n' "$base.onnx" "$base.inline.onnx" >> "$list"
      fi
    done
  done
done
node "$root/tests/ort/compare.js" --list "$list" --dim N=2 --dim S=8
