#!/usr/bin/env bash
# Regenerates the seed corpus of the ONNX fuzz target from mcz-sample's tiny models (the
# project's own generated files, no third-party model): each placement, plus truncations and
# a few byte flips. usage: make-corpus.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"
for family in mlp cnn transformer; do
  for weights in initializer constant if; do
    "$bin/mcz-sample" "$family" --size 4K --weights "$weights" -q -f -o "$tmp/m.onnx" 2>/dev/null
    cp "$tmp/m.onnx" "$out/$family-$weights"
  done
done
"$bin/mcz-sample" mlp --size 4K --dtype float16 -q -f -o "$tmp/h.onnx" 2>/dev/null
cp "$tmp/h.onnx" "$out/mlp-float16"
seed=1
for f in "$out"/mlp-initializer "$out"/cnn-constant "$out"/transformer-if; do
  n=$(stat -c %s "$f")
  for cut in 1 7 $((n / 3)) $((n / 2)) $((n - 1)); do
    head -c "$cut" "$f" > "$f.cut$cut"
  done
  for k in 1 2 3; do
    off=$(( (seed * 7919 + k * 104729) % n ))
    cp "$f" "$f.flip$k"
    printf '\xff' | dd of="$f.flip$k" bs=1 seek="$off" conv=notrunc status=none
    seed=$((seed + 1))
  done
done
ls "$out" | wc -l
