#!/usr/bin/env bash
# container.corpus: pack -> unpack over the Debian ONNX corpus and the real models.
#   corpus.sh BIN_DIR SOURCE_DIR ROUNDTRIP   (BIN_DIR: the tools; ROUNDTRIP: mcz-container-roundtrip)
# 1. mcz-pack then mcz-unpack every model; count the unpacked files byte-identical to the
#    original. A model that is not byte-identical must be identical to its canonical form
#    (what mcz writes for it: typed fields become raw_data...), checked with the model the
#    loader builds in memory (mcz-container-roundtrip). Any other difference fails.
# 2. With ONNX Runtime installed (scripts/ort-setup.sh) and tests/ort/compare.js present:
#    ORT gives identical outputs for original vs unpacked vs loader-built model.
#    Set MCZ_SKIP_ORT=1 to skip; MCZ_ORT_JOBS (default 2) pairs at once.
set -uo pipefail
bin=$1 src=$2 roundtrip=$3
cache=${MCZ_CACHE:-$HOME/.cache/mcz}
work=$(mktemp -d /tmp/mcz-corpus-XXXXXX)
trap 'rm -rf "$work"' EXIT

models=()
for d in node pytorch-converted pytorch-operator simple; do
    for m in /usr/share/libonnx-testdata/data/$d/*/model.onnx; do
        [[ -f $m ]] && models+=("$m")
    done
done
real=()
if [[ -x $src/tests/fetch-models.sh ]] && "$src/tests/fetch-models.sh" >"$work/real.txt" 2>"$work/fetch.err"; then
    mapfile -t real <"$work/real.txt"
else
    echo "corpus.sh: real models unavailable (tests/fetch-models.sh failed): $(tail -n 1 "$work/fetch.err" 2>/dev/null)"
fi
all=("${models[@]}" "${real[@]}")
[[ ${#models[@]} -gt 0 ]] || { echo "corpus.sh: no Debian ONNX corpus (libonnx-testdata)"; exit 1; }

identical=0 fail=0 k=0
: >"$work/list.txt"
: >"$work/ort.txt"
mkdir -p "$work/m" "$work/built"
for m in "${all[@]}"; do
    x=$work/m/$k.mcz u=$work/m/$k.onnx
    if ! "$bin/mcz-pack" -q -f "$m" -o "$x"; then
        echo "FAIL $m: mcz-pack"; fail=$((fail + 1)); k=$((k + 1)); continue
    fi
    if ! "$bin/mcz-unpack" -q -f "$x" -o "$u"; then
        echo "FAIL $m: mcz-unpack"; fail=$((fail + 1)); k=$((k + 1)); continue
    fi
    if cmp -s "$m" "$u"; then identical=$((identical + 1)); fi
    printf '%s\t%s\t%s\n' "$m" "$x" "$u" >>"$work/list.txt"
    k=$((k + 1))
done
"$roundtrip" --built "$work/built" --list "$work/list.txt" >"$work/rt.txt"
rt=$?
grep '^FAIL' "$work/rt.txt"
[[ $rt -eq 0 ]] || fail=$((fail + $(grep -c '^FAIL' "$work/rt.txt")))
canon=$(grep -c '^ok ' "$work/rt.txt")
raw=$(grep -c '^ok-raw ' "$work/rt.txt")
echo "corpus.sh: ${#all[@]} models (${#models[@]} Debian corpus, ${#real[@]} real): $identical unpacked byte-identical to the original;"
echo "  the model built in memory (and the unpacked file) equals mcz's canonical serialization for $canon,"
echo "  and equals it once weights held in typed fields (int64_data...) or empty are raw_data for $raw; $fail failed"
for r in "${real[@]}"; do
    x=$(awk -F'\t' -v m="$r" '$1 == m {print $2}' "$work/list.txt" | head -n 1)
    [[ -n $x ]] && printf '  %s: %s bytes, .mcz %s bytes\n' "$(basename "$r")" "$(stat -c %s "$r")" "$(stat -c %s "$x")"
done

ort=$cache/ort/node_modules/onnxruntime-node
if [[ ${MCZ_SKIP_ORT:-0} == 1 ]]; then
    echo "corpus.sh: ONNX Runtime comparison skipped (MCZ_SKIP_ORT=1)"
elif [[ ! -d $ort || ! -f $src/tests/ort/compare.js ]]; then
    echo "corpus.sh: ONNX Runtime comparison skipped: run scripts/ort-setup.sh first"
else
    # pairs: original vs unpacked, original vs loader-built (same order as list.txt)
    i=0
    while IFS=$'\t' read -r m x u; do
        d=$(dirname "$m")/test_data_set_0
        extra=""
        [[ -d $d ]] && extra=$'\t'$d
        printf '%s\t%s%s\n' "$m" "$u" "$extra" >>"$work/ort.txt"
        printf '%s\t%s%s\n' "$m" "$work/built/$(printf %06d $i).onnx" "$extra" >>"$work/ort.txt"
        i=$((i + 1))
    done <"$work/list.txt"
    node "$src/tests/ort/compare.js" --list "$work/ort.txt" -j "${MCZ_ORT_JOBS:-2}" >"$work/ort.out" 2>&1
    o=$?
    tail -n 3 "$work/ort.out"
    grep -E '^FAIL' "$work/ort.out" | head -20
    [[ $o -eq 0 ]] || fail=$((fail + 1))
    # the real models with realistic inputs (tests/ort/README.md), never skipped
    i=0
    while IFS=$'\t' read -r m x u; do
        b=$work/built/$(printf %06d $i).onnx
        i=$((i + 1))
        [[ $m == "$cache"/models/* ]] || continue
        opts=()
        [[ $(basename "$m") == silero-vad.onnx ]] && opts=(--dim sequence=512 --fill sr=16000)
        for B in "$u" "$b"; do
            if node "$src/tests/ort/compare.js" "$m" "$B" "${opts[@]}" >"$work/one.out" 2>&1; then
                echo "ORT identical outputs: $(basename "$m") vs $([[ $B == "$u" ]] && echo unpacked || echo loader-built)"
            else
                echo "FAIL ORT: $m vs $B:"; tail -n 5 "$work/one.out"; fail=$((fail + 1))
            fi
        done
    done <"$work/list.txt"
fi
[[ $fail -eq 0 ]]
