#!/usr/bin/env bash
# outputs.sh BIN_DIR WORK_DIR [MODELS_DIR]: run every tool that writes a model over generated
# sample models (and the real models in MODELS_DIR when given) with the options users reach
# for, and print one line per output file: "sha256  name". A refactoring must leave every line
# the same: tests/golden/expected.sha256 holds them, and check.sh compares.
set -euo pipefail
B=$1 W=$2 M=${3:-}
mkdir -p "$W"
cd "$W"

models=()
gen() { # name family size [sample options...]
    local n=$1 fam=$2 sz=$3; shift 3
    "$B/mcz-sample" "$fam" --size "$sz" -o "$n.onnx" -f -q "$@"
    models+=("$n")
}
gen mlp mlp 1M
gen cnn cnn 1M
gen tf transformer 1M
gen tf16 transformer 512K --dtype float16
gen tfbf transformer 512K --dtype bfloat16
gen tfc transformer 512K --weights constant
gen tfif mlp 512K --weights if
gen tfext transformer 512K --weights external
if [[ -n $M ]]; then
    for r in ppocrv4-det ppocrv4-rec ppocrv4-cls silero-vad; do
        [[ -f $M/$r.onnx ]] || { echo "outputs.sh: no $M/$r.onnx (make models)" >&2; exit 1; }
        cp "$M/$r.onnx" "$r.onnx"
        models+=("$r")
    done
fi

run() { "$@" -f -q > /dev/null; }
for m in "${models[@]}"; do
    run "$B/mcz-pack" "$m.onnx" -o "$m.mcz"
    run "$B/mcz-pack" "$m.onnx" -o "$m.l3.mcz" --level 3
    run "$B/mcz-unpack" "$m.mcz" -o "$m.rt.onnx"
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q8.onnx"
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q8.mcz"
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q8mm.mcz" --method minmax
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q8t.onnx" --granularity tensor --asymmetric
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q4.mcz" --bits 4
    run "$B/mcz-quantize" "$m.onnx" -o "$m.q4.onnx" --bits 4
    run "$B/mcz-prune" "$m.onnx" -o "$m.p50.mcz" --sparsity 0.5
    run "$B/mcz-prune" "$m.onnx" -o "$m.p24.onnx" --sparsity 0.5 --pattern 2:4
    run "$B/mcz-prune" "$m.onnx" -o "$m.pg.mcz" --sparsity 0.3 --scope global
    run "$B/mcz-prune" "$m.onnx" -o "$m.pch.onnx" --sparsity 0.25 --pattern channel
    run "$B/mcz-quantize" "$m.p50.mcz" -o "$m.p50q8.mcz"
    run "$B/mcz-unpack" "$m.p50q8.mcz" -o "$m.p50q8.onnx"
    [[ $m == tfif || $m == silero-vad ]] && continue # one or two If nodes: nothing to split
    run "$B/mcz-partition" "$m.onnx" -o "$m.parts/" --parts 3
    run "$B/mcz-partition" "$m.q8.mcz" -o "$m.q8p3.mcz" --parts 3
    run "$B/mcz-unpack" "$m.q8p3.mcz" -o "$m.q8p3.part1.onnx" --part 1
    run "$B/mcz-unpack" "$m.q8p3.mcz" -o "$m.q8p3.rt.onnx"
done
# every output, in a stable order; inputs (generated or copied) are hashed too, so a changed
# generator is seen
find . -type f ! -name '*.tmp*' | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum
