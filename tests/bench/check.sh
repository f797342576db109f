#!/usr/bin/env bash
# check.sh BIN_DIR WORK_DIR CASE [MODEL.onnx]: mcz-bench behaviour. Not timing: what it
# measures and reports, which must hold on any machine. Exit 0 passed, 1 failed (never skipped).
#   cli            exit codes and messages: no input 2, bad --repeat 2, -o refused 2, an .onnx
#                  given as the artifact 1 (named), a damaged .mcz 1
#   json MODEL     on MODEL packed, with --f32: the JSON has every measurement with median within
#                  [min, max]; memcpy copies exactly what the loader produced and memcpy_f32 what
#                  the float32 reads produced; the protobuf-c baseline converts exactly the float
#                  weights the loader gives as float32 (initializers, Constant nodes and subgraphs
#                  alike); no partitions, no parts_* rows; human output has the five rows;
#                  without --f32 there is no load_f32 row
#   parts MODEL    MODEL split into a 4-part .mcz (mcz-partition --parts 4 -o X.mcz; failing to
#                  write it fails): parts 4, parts_serial and parts_parallel decode the same
#                  bytes, at most what mcz_load_all decodes
#   quant MODEL    MODEL quantized to an int8 .mcz, with --f32: the .mcz stores quantization
#                  parameters (quantized_tensors > 0) and the quantized tensors are dequantized
#                  (almost nothing is read as stored)
set -euo pipefail
B=$1 W=$2 case=$3 model=${4:-}
fail() { echo "FAIL ($case): $*"; exit 1; }
mkdir -p "$W"
expect_rc() { # RC CMD...: run, expect exit status RC
  local want=$1 got=0; shift
  "$@" > "$W/out" 2> "$W/err" || got=$?
  [ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(cat "$W/err")"
}
case $case in
  cli)
    "$B/mcz-sample" mlp --size 256K -f -o "$W/cli.onnx" > /dev/null
    "$B/mcz-pack" -q -f "$W/cli.onnx" -o "$W/cli.mcz"
    expect_rc 2 "$B/mcz-bench"
    grep -q "no input artifact" "$W/err" || fail "no message for a missing artifact"
    expect_rc 2 "$B/mcz-bench" --repeat 0 "$W/cli.mcz"
    grep -q "repeat" "$W/err" || fail "bad --repeat not named"
    expect_rc 2 "$B/mcz-bench" -o "$W/x" "$W/cli.mcz"
    expect_rc 2 "$B/mcz-bench" "$W/cli.mcz" "$W/cli.mcz"
    expect_rc 1 "$B/mcz-bench" "$W/cli.onnx"
    grep -q "cli.onnx: not an .mcz" "$W/err" || fail "an ONNX artifact is not refused by name: $(cat "$W/err")"
    expect_rc 1 "$B/mcz-bench" --repeat 1 "$W/cli.mcz" --onnx "$W/missing.onnx"
    grep -q "missing.onnx" "$W/err" || fail "a missing --onnx model is not named"
    # a damaged payload: flip a byte in the middle of the file
    cp "$W/cli.mcz" "$W/bad.mcz"
    size=$(stat -c %s "$W/bad.mcz")
    printf '\xff\xff\xff\xff' | dd of="$W/bad.mcz" bs=1 seek=$((size / 2)) conv=notrunc status=none
    expect_rc 1 "$B/mcz-bench" --repeat 1 "$W/bad.mcz"
    expect_rc 0 "$B/mcz-bench" -q --repeat 1 "$W/cli.mcz"
    [ ! -s "$W/out" ] || fail "-q printed something"
    ;;
  json)
    [ -f "$model" ] || fail "no model $model"
    n=$(basename "$model" .onnx)
    "$B/mcz-pack" -q -f "$model" -o "$W/$n.mcz"
    for j in 1 2; do
      "$B/mcz-bench" --json --f32 -j $j --repeat 3 --onnx "$model" --report "$W/$n-report.json" "$W/$n.mcz" > "$W/$n.json"
      cmp -s "$W/$n.json" "$W/$n-report.json" || fail "--report and --json differ"
      node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const bad = (m) => { console.log("FAIL (json): " + m); process.exit(1); };
        if (r.threads !== +process.argv[2]) bad("threads " + r.threads);
        if (r.repeat !== 3) bad("repeat " + r.repeat);
        for (const k of ["load", "load_f32", "memcpy", "memcpy_f32", "onnx_protobuf_c"]) {
          const m = r[k];
          if (!m) bad("no " + k);
          if (!(m.min_s > 0 && m.min_s <= m.median_s && m.median_s <= m.max_s)) bad(k + ": times out of order");
          if (!(m.bytes > 0 && m.mb_per_s > 0 && m.peak_rss_bytes > 0)) bad(k + ": empty figures");
        }
        if (r.memcpy.bytes !== r.load.bytes) bad("memcpy copies " + r.memcpy.bytes + " bytes, the loader gave " + r.load.bytes);
        if (r.memcpy_f32.bytes !== r.load_f32.bytes) bad("memcpy_f32 copies " + r.memcpy_f32.bytes + " bytes, load_f32 gave " + r.load_f32.bytes);
        if (r.parts !== 0 || r.parts_serial || r.parts_parallel) bad("partitions reported for an unsplit model");
        if (r.load_f32.bytes - r.f32_unconverted_bytes !== r.onnx_protobuf_c.bytes)
          bad("float32 bytes: loader " + (r.load_f32.bytes - r.f32_unconverted_bytes) + ", protobuf-c baseline " + r.onnx_protobuf_c.bytes);
        if (r.onnx_bytes !== require("fs").statSync(r.onnx).size) bad("onnx_bytes is not the file size");
      ' "$W/$n.json" $j
    done
    "$B/mcz-bench" --f32 --repeat 1 --onnx "$model" "$W/$n.mcz" > "$W/$n.txt"
    for row in load load_f32 memcpy memcpy_f32 onnx_protobuf_c; do
      grep -Eq "^  $row +[0-9]+ " "$W/$n.txt" || fail "no $row row in: $(cat "$W/$n.txt")"
    done
    "$B/mcz-bench" --repeat 1 "$W/$n.mcz" > "$W/$n.txt"
    ! grep -Eq "^  (load_f32|memcpy_f32) " "$W/$n.txt" || fail "float32 rows without --f32: $(cat "$W/$n.txt")"
    ;;
  parts)
    [ -f "$model" ] || fail "no model $model"
    n=$(basename "$model" .onnx)
    "$B/mcz-partition" -q -f --parts 4 "$model" -o "$W/$n-4.mcz" 2> "$W/err" ||
      fail "mcz-partition did not write a 4-part .mcz of $n: $(tail -n1 "$W/err")"
    "$B/mcz-bench" --json -j 2 --repeat 3 "$W/$n-4.mcz" > "$W/$n-4.json"
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const bad = (m) => { console.log("FAIL (parts): " + m); process.exit(1); };
      if (r.parts !== 4) bad("parts " + r.parts);
      if (r.parts_threads !== 2) bad("parts_threads " + r.parts_threads);
      for (const k of ["parts_serial", "parts_parallel"]) {
        const m = r[k];
        if (!m) bad("no " + k);
        if (!(m.min_s > 0 && m.min_s <= m.median_s && m.median_s <= m.max_s)) bad(k + ": times out of order");
        if (!(m.bytes > 0 && m.mb_per_s > 0)) bad(k + ": empty figures");
      }
      if (r.parts_serial.bytes !== r.parts_parallel.bytes) bad("serial and parallel decode different bytes");
      if (r.parts_serial.bytes > r.load.bytes) bad("partitions decode more than the whole file");
    ' "$W/$n-4.json"
    ;;
  quant)
    [ -f "$model" ] || fail "no model $model"
    n=$(basename "$model" .onnx)
    "$B/mcz-quantize" -q -f "$model" -o "$W/$n-q8.mcz" 2> "$W/err" ||
      fail "mcz-quantize did not write an int8 .mcz of $n: $(tail -n1 "$W/err")"
    "$B/mcz-bench" --json --f32 -j 2 --repeat 1 "$W/$n-q8.mcz" > "$W/$n-q8.json"
    q=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).quantized_tensors' "$W/$n-q8.json")
    [ "$q" -gt 0 ] 2> /dev/null ||
      fail "the int8 .mcz of $n reports quantized_tensors=$q: mcz-quantize -o X.mcz stored no quantization parameters"
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const bad = (m) => { console.log("FAIL (quant): " + m); process.exit(1); };
      if (!r.load_f32 || !r.memcpy_f32) bad("no float32 rows");
      if (r.memcpy_f32.bytes !== r.load_f32.bytes) bad("memcpy_f32 bytes differ from load_f32");
      if (r.f32_unconverted_bytes * 10 > r.load.bytes)
        bad(r.f32_unconverted_bytes + " of " + r.load.bytes + " bytes read as stored: the codes were not dequantized");
      if (r.load_f32.bytes < 2 * r.load.bytes) bad("float32 bytes " + r.load_f32.bytes + " not about 4x the int8 bytes " + r.load.bytes);
    ' "$W/$n-q8.json"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case ${model:+$(basename "$model")}"
