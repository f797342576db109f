#!/bin/sh
# cli.sh BIN_DIR MODEL.onnx OUTDIR - the mcz-quantize command line: exit statuses, messages,
# the table, --json and --report, -o -, -f. Prints each check; exit 1 on the first failure.
set -u
BIN=$1 MODEL=$2 OUT=$3
Q="$BIN/mcz-quantize"
mkdir -p "$OUT"
fails=0

check() { # NAME EXPECTED_STATUS PATTERN_IN_OUTPUT -- command...
    name=$1 want=$2 pat=$3
    shift 4
    "$@" >"$OUT/out.txt" 2>"$OUT/err.txt"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"; cat "$OUT/err.txt"; fails=$((fails + 1)); return
    fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$OUT/out.txt" "$OUT/err.txt"; then
        echo "FAIL $name: output does not mention '$pat'"; cat "$OUT/out.txt" "$OUT/err.txt"
        fails=$((fails + 1)); return
    fi
    echo "ok   $name"
}

check "help exits 0" 0 "--target-sqnr" -- "$Q" --help
check "version exits 0" 0 "mcz-quantize" -- "$Q" --version
check "no input is a usage error" 2 "no input model" -- "$Q" -o "$OUT/x.onnx"
check "no output is a usage error" 2 "no output" -- "$Q" "$MODEL"
check "bits other than 8 or 4" 2 "invalid --bits '3'" -- "$Q" "$MODEL" -o "$OUT/x.onnx" --bits 3
check "block size out of range" 2 "16..256" -- "$Q" "$MODEL" -o "$OUT/x.onnx" --bits 4 --block-size 8
check "block size needs blocks" 2 "--granularity block only" -- "$Q" "$MODEL" -o "$OUT/x.onnx" --block-size 64
check "unknown method" 2 "mse or minmax" -- "$Q" "$MODEL" -o "$OUT/x.onnx" --method best
check "target sqnr must be a number" 2 "invalid --target-sqnr" -- "$Q" "$MODEL" -o "$OUT/x.onnx" --target-sqnr loud
check "json and -o - conflict" 2 "standard output" -- "$Q" "$MODEL" -o - --json
check "missing input file" 1 "cannot open" -- "$Q" "$OUT/nope.onnx" -o "$OUT/x.onnx"
check "exclude matching nothing suggests names" 2 "did you mean" -- \
    "$Q" "$MODEL" -o "$OUT/x.onnx" -f --exclude "layers.0.attn.q.weigth"
check "the table names weights, schemes and totals" 0 "int8 channel" -- \
    "$Q" "$MODEL" -o "$OUT/x.onnx" -f
grep -q "^WEIGHT .*SQNR dB" "$OUT/out.txt" && grep -q "^total: " "$OUT/out.txt" &&
    grep -q "^quantized weights: .*x), SQNR" "$OUT/out.txt" ||
    { echo "FAIL table layout"; cat "$OUT/out.txt"; fails=$((fails + 1)); }
check "an existing output needs -f" 1 "exists" -- "$Q" "$MODEL" -o "$OUT/x.onnx"
check "--json is JSON with a row per weight" 0 "" -- "$Q" "$MODEL" -o "$OUT/y.onnx" -f --json \
    --bits 4 --report "$OUT/report.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const f = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
if (JSON.stringify(r) !== JSON.stringify(f)) throw new Error("--json and --report differ");
if (r.bits !== 4 || r.granularity !== "block" || r.block_size !== 32) throw new Error("scheme");
const q = r.weights.filter((w) => w.status === "quantized");
if (!q.length || q.some((w) => w.bits !== 4 || !(w.sqnr_db > 0) || w.bytes_after >= w.bytes_before))
  throw new Error("rows");
if (r.totals.quantized !== q.length || r.opset_after !== 21) throw new Error("totals");
' "$OUT/out.txt" "$OUT/report.json" || { echo "FAIL json contents"; fails=$((fails + 1)); }
check "-o - writes the model to stdout and the table to stderr" 0 "" -- "$Q" "$MODEL" -o -
cmp -s "$OUT/out.txt" "$OUT/x.onnx" || { echo "FAIL -o - bytes differ from -o FILE"; fails=$((fails + 1)); }
grep -q "^total: " "$OUT/err.txt" || { echo "FAIL -o - table not on stderr"; fails=$((fails + 1)); }
check "-q prints nothing" 0 "" -- "$Q" "$MODEL" -o "$OUT/x.onnx" -f -q
[ -s "$OUT/out.txt" ] && { echo "FAIL -q printed"; fails=$((fails + 1)); }
check "mixed precision reports what it kept" 0 "below --target-sqnr" -- \
    "$Q" "$MODEL" -o "$OUT/z.onnx" -f --bits 4 --target-sqnr 60

[ "$fails" -eq 0 ] && echo "cli: all checks passed" && exit 0
echo "cli: $fails checks failed"
exit 1
