#!/usr/bin/env bash
# A model over protobuf's 2 GiB limit: generated with external data, re-exported with
# external data chosen automatically (inline is refused with a clear error), and ONNX Runtime
# gives identical outputs. usage: big.sh BIN_DIR OUT_DIR
set -euo pipefail
bin=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
"$bin/mcz-sample" transformer --size 2.1G -q -o "$out/big.onnx"
[ -s "$out/big.onnx.data" ] || { echo "FAIL: the generator did not use external data"; exit 1; }
rm -f "$out/again.onnx"
"$bin/sample-resave" "$out/big.onnx" "$out/again.onnx"
[ -s "$out/again.onnx.data" ] || { echo "FAIL: export over 2 GiB did not use external data"; exit 1; }
if "$bin/sample-resave" "$out/big.onnx" "$out/inline.onnx" inline 2> "$out/err.txt"; then
  echo "FAIL: an inline export over 2 GiB was accepted"; exit 1
fi
grep -q "2 GiB" "$out/err.txt" || { echo "FAIL: unclear error: $(cat "$out/err.txt")"; exit 1; }
[ ! -e "$out/inline.onnx" ] || { echo "FAIL: a refused export left a file"; exit 1; }
ls "$out" | grep -q 'mcz-tmp' && { echo "FAIL: a temporary file was left behind"; exit 1; }
echo "over 2 GiB: $(stat -c %s "$out/again.onnx.data") bytes of external data, inline refused: $(cat "$out/err.txt")"
node "$root/tests/ort/compare.js" "$out/big.onnx" "$out/again.onnx" --dim N=1 --dim S=4
