#!/bin/sh
# roundtrip.sh BIN MODEL.onnx OUT CASE [RUN-PARTS ARGS...]: one writer-feature round trip
# (tests/mczext/CMakeLists.txt); the extra arguments go to run-parts.js (partK).
#   quant8, quant4  mcz-quantize to ONNX and to .mcz: the .mcz's quantized tensors dequantize
#                   as the QDQ ONNX says (mczext-check quant), pack -> unpack is byte-identical
#   prune           mcz-prune 0.5 (and then int8): the sparse encoding is chosen, every tensor
#                   reads back exactly, pack -> unpack is byte-identical, -j 1 = -j 2
#   partK           mcz-partition -o OUT.mcz --parts K: K parts, unpack of the whole model is
#                   byte-identical, mcz-unpack --part N of each part run in ONNX Runtime in
#                   sequence (run-parts.js, with the manifest of the folder output) = the whole
set -eu
bin=$1 model=$2 out=$3 case=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
o=$out/$case
say() { echo "$*"; }
size() { wc -c < "$1" | tr -d ' '; }
rt() { # pack $1 -> $1.mcz, unpack, compare
  "$bin/mcz-pack" "$1" -o "$1.mcz" -f -q -j 2
  "$bin/mcz-unpack" "$1.mcz" -o "$1.rt.onnx" -f -q
  cmp "$1" "$1.rt.onnx"
  say "$(basename "$1"): pack -> unpack identical; .mcz $(size "$1.mcz") bytes"
}
case $case in
quant8|quant4)
  bits=${case#quant}
  "$bin/mcz-quantize" "$model" -o "$o.onnx" --bits "$bits" -f -q -j 2
  "$bin/mcz-quantize" "$model" -o "$o.mcz" --bits "$bits" -f -q -j 2
  "$bin/mczext-check" quant "$o.onnx" "$o.mcz"
  rt "$o.onnx"
  "$bin/mczext-check" quant "$o.onnx" "$o.onnx.mcz"
  "$bin/mcz-unpack" "$o.mcz" -o "$o.mcz.onnx" -f -q
  cmp "$o.onnx" "$o.mcz.onnx"
  say "float $(size "$model") bytes, int$bits .mcz $(size "$o.mcz") bytes"
  ;;
prune)
  "$bin/mcz-prune" "$model" -o "$o.onnx" --sparsity 0.5 -f -q -j 2
  rt "$o.onnx"
  "$bin/mcz-pack" "$o.onnx" -o "$o.j1.mcz" -f -q -j 1
  cmp "$o.onnx.mcz" "$o.j1.mcz" # the same bytes whatever the thread count
  "$bin/mczext-check" same "$o.onnx" "$o.onnx.mcz"
  "$bin/mczext-check" sparse "$o.onnx.mcz" 1
  "$bin/mcz-quantize" "$o.onnx" -o "$o-q8.onnx" -f -q -j 2
  rt "$o-q8.onnx"
  "$bin/mczext-check" quant "$o-q8.onnx" "$o-q8.onnx.mcz"
  "$bin/mczext-check" same "$o-q8.onnx" "$o-q8.onnx.mcz"
  say "float $(size "$model") bytes, prune50 .mcz $(size "$o.onnx.mcz"), prune50+int8 .mcz $(size "$o-q8.onnx.mcz")"
  ;;
part*)
  k=${case#part}
  "$bin/mcz-partition" "$model" -o "$o.mcz" --parts "$k" -f -q -j 2
  "$bin/mczext-check" parts "$o.mcz" "$k"
  "$bin/mcz-unpack" "$o.mcz" -o "$o.whole.onnx" -f -q
  "$bin/mcz-pack" "$model" -o "$o.plain.mcz" -f -q -j 2
  "$bin/mcz-unpack" "$o.plain.mcz" -o "$o.plain.onnx" -f -q
  cmp "$o.whole.onnx" "$o.plain.onnx" # the same model as a plain pack gives back
  "$bin/mcz-partition" "$model" -o "$o.d/" --parts "$k" -f -q
  n=0
  while [ "$n" -lt "$k" ]; do
    "$bin/mcz-unpack" "$o.mcz" --part "$n" -o "$o.d/$(printf part-%03d.onnx "$n")" -f -q
    n=$((n + 1))
  done
  node "$here/../partition/run-parts.js" "$model" "$o.d" --expect-parts "$k" "$@"
  say "float $(size "$model") bytes, $k-part .mcz $(size "$o.mcz") bytes (plain .mcz $(size "$o.plain.mcz"))"
  ;;
*) echo "roundtrip.sh: unknown case $case" >&2; exit 2 ;;
esac
