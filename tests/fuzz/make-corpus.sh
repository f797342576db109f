#!/usr/bin/env bash
# Regenerates the seed corpora of the fuzz targets from mcz-sample's tiny models (the project's
# own generated files, no third-party model):
#   corpus/onnx       each family and placement, plus truncations and a few byte flips;
#   corpus/mcz        the same models packed with mcz-pack (raw, zstd and byte-plane payloads),
#                     plus truncations and byte flips;
#   corpus/mcz_index  those containers with the index stored uncompressed (codec 0; zstd CLI +
#                     python3), checksums left stale: fuzz_mcz_index re-seals them;
#   corpus/roundtrip  short byte strings that drive fuzz_roundtrip's tensor generator.
# usage: make-corpus.sh BIN_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cut_and_flip FILE SEED: truncations and 3 one-byte flips beside FILE
cut_and_flip() {
  local f=$1 seed=$2 n cut k off
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
}

out=$here/corpus/onnx
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
cut_and_flip "$out/mlp-initializer" 1
cut_and_flip "$out/cnn-constant" 4
cut_and_flip "$out/transformer-if" 7

mout=$here/corpus/mcz
rm -rf "$mout"
mkdir -p "$mout"
for f in mlp-initializer cnn-constant transformer-if mlp-float16; do
  "$bin/mcz-pack" "$out/$f" -q -f -o "$tmp/p.mcz" --level 3
  cp "$tmp/p.mcz" "$mout/$f"
done
"$bin/mcz-sample" transformer --size 16K -q -f -o "$tmp/t.onnx" 2>/dev/null
"$bin/mcz-pack" "$tmp/t.onnx" -q -f -o "$tmp/t.mcz" --level 1
cp "$tmp/t.mcz" "$mout/transformer-16k"
cut_and_flip "$mout/mlp-initializer" 2
cut_and_flip "$mout/transformer-if" 5

iout=$here/corpus/mcz_index
rm -rf "$iout"
mkdir -p "$iout"
for f in mlp-initializer cnn-constant transformer-if mlp-float16 transformer-16k; do
  python3 - "$mout/$f" "$iout/$f" <<'PY'
import struct, subprocess, sys
b = open(sys.argv[1], 'rb').read()
ft = b[-64:]
off, stored, raw = struct.unpack_from('<QQQ', ft, 0)
codec = struct.unpack_from('<I', ft, 24)[0]
idx = b[off:off + stored]
if codec == 1:
    idx = subprocess.run(['zstd', '-dc'], input=idx, stdout=subprocess.PIPE, check=True).stdout
assert len(idx) == raw
nf = bytearray(ft)
struct.pack_into('<QQQI', nf, 0, off, raw, raw, 0)
out = b[:off] + idx + bytes(nf)
struct.pack_into('<Q', nf, 40, len(out))
open(sys.argv[2], 'wb').write(b[:off] + idx + bytes(nf))
PY
done

rout=$here/corpus/roundtrip
rm -rf "$rout"
mkdir -p "$rout"
# head byte: tensors and level; then per tensor: dtype/rank byte, dims, name length, values
printf '\x00\x00' > "$rout/scalar-float"
printf '\x03\x08\x05\x00\x29\x08\x07\x00\x0a\x10\x02\x00\x03\x2c\x1a\x01' > "$rout/four-small"
printf '\x01\x19\x30\x30\x04abcd' > "$rout/float16-matrix"
printf '\x02\x11\xf4\x01\x12\x1a\xf2\x00' > "$rout/wide"
head -c 200 "$out/mlp-initializer" > "$tmp/x"; { printf '\x07\x09\x20'; cat "$tmp/x"; } > "$rout/values-from-onnx"
printf '\x00\x08\x02\x00\x01\x00\xc0\x7f\x00\x00\x00\x80' > "$rout/nan-and-negzero"
ls "$out" "$mout" "$iout" "$rout" | grep -vc '^\(/\|$\)'
