#!/usr/bin/env bash
# bench.sh - the benchmark suite: sizes, tool times and memory, load throughput and
# size vs error, for generated models (1 MB .. BENCH_MAX) and the real npm-shipped models.
# Writes docs/benchmarks.md and docs/benchmarks-size-error.svg; every figure in them comes from
# this script's measurements.
#
#   bash scripts/bench.sh            measure (resuming: a model measured before is kept) + report
#   bash scripts/bench.sh report     only rebuild the report from the measurements so far
#
# Environment: MCZ_BUILD (default build/), MCZ_CACHE (default ~/.cache/mcz), BENCH_MAX (largest
# generated model, default 1G; e.g. 256M for a quick run), BENCH_DIR (work folder, default
# $MCZ_CACHE/bench), BENCH_REPEAT (runs per load measurement, default 5), BENCH_NOTE (a sentence
# about the run, printed in the report), BENCH_FRESH=1 (forget earlier measurements),
# BENCH_1G (families generated at 1G, default "mlp cnn transformer"), BENCH_SLOW_MAX (largest
# model given to zstd -19 and xz -9, default 1G), BENCH_DTYPE_MAX (largest float16/bfloat16
# transformer, default 256M).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
B=${MCZ_BUILD:-$here/build}/bin
CACHE=${MCZ_CACHE:-${HOME:-/root}/.cache/mcz}
MAX=${BENCH_MAX:-1G}
W=${BENCH_DIR:-$CACHE/bench}
REPEAT=${BENCH_REPEAT:-5}
DOC=$here/docs/benchmarks.md
SVG=$here/docs/benchmarks-size-error.svg
R=$W/results
SCHEMA=2  # the layout of the result tables; older results are measured again
NCPU=$(nproc 2>/dev/null || echo 2)
THREADS="1 $NCPU"
[ "$NCPU" -gt 1 ] || THREADS=1

die() { echo "bench.sh: $*" >&2; exit 1; }
tobytes() { # 1M -> 1048576
  local s=$1 n=${1%[KkMmGg]}
  case $s in *[Kk]) echo $((n * 1024));; *[Mm]) echo $((n * 1048576));; *[Gg]) echo $((n * 1073741824));; *) echo "$n";; esac
}
fsize() { stat -c %s "$1"; }
now() { date +%s.%N; }

# a failing step: fatal, unless SOFT=1 (then recorded as "failed" with the message)
soft_fail() {
  local model=$1 step=$2 j=$3; shift 3
  [ "${SOFT:-0}" = 1 ] || die "$model: $step (-j $j) failed: $* ($(tail -n1 "$W/.err"))"
  printf "%s\t%s\t%s\tfailed\tNA\n" "$model" "$step" "$j" >> "$R/times.tsv"
  printf "%s\t%s\t%s\n" "$model" "$step" "$(tail -n1 "$W/.err")" >> "$R/failures.tsv"
}
# timed MODEL STEP THREADS CMD...: run CMD, record seconds and peak RSS (KiB) in times.tsv
if [ -x /usr/bin/time ]; then HAVE_TIME=1; else HAVE_TIME=0; fi
timed() {
  local model=$1 step=$2 j=$3; shift 3
  local t0 t1 rss=NA
  sync # the previous step's output written back now, not during this one
  t0=$(now)
  if [ $HAVE_TIME = 1 ]; then
    /usr/bin/time -f %M -o "$W/.rss" "$@" > "$W/.out" 2> "$W/.err" || { soft_fail "$model" "$step" "$j" "$@"; return 0; }
    rss=$(tail -n1 "$W/.rss")
  else
    "$@" > "$W/.out" 2> "$W/.err" || { soft_fail "$model" "$step" "$j" "$@"; return 0; }
  fi
  t1=$(now)
  printf '%s\t%s\t%s\t%.3f\t%s\n' "$model" "$step" "$j" "$(echo "$t1 - $t0" | bc -l)" "$rss" >> "$R/times.tsv"
}
size_rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$(fsize "$3")" >> "$R/sizes.tsv"; }

# mcz-bench --report JSON -> load.tsv rows
load_rec() { # MODEL ARTIFACT THREADS JSON
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const k of ["load", "load_f32", "memcpy", "memcpy_f32", "onnx_protobuf_c", "parts_serial", "parts_parallel"]) {
      const m = r[k]; if (!m) continue;
      console.log([process.argv[2], process.argv[3], process.argv[4], k, m.bytes, m.median_s,
                   m.min_s, m.max_s, m.mb_per_s, m.peak_rss_bytes, r.f32_unconverted_bytes,
                   r.quantized_tensors, r.parts].join("\t"));
    }' "$4" "$1" "$2" "$3" >> "$R/load.tsv"
}

# median seconds of `zstd -dc FILE > /dev/null` over REPEAT runs
zstd_dc() {
  local i t0 t1 ts=()
  for ((i = 0; i < REPEAT; i++)); do
    t0=$(now); zstd -q -dc "$1" > /dev/null; t1=$(now)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

compare_args() {
  case $1 in silero-vad) echo "--dim sequence=512 --fill sr=16000";; *) echo "";; esac
}

bench_model() { # NAME ONNX REAL(0|1)
  local name=$1 onnx=$2 real=$3 d=$W/$1 j
  if [ -f "$d/.done" ]; then echo "== $name: measured before (BENCH_FRESH=1 to redo)"; return; fi
  echo "== $name ($(fsize "$onnx") bytes)"
  rm -rf "$d"; mkdir -p "$d"
  forget "$name"
  rm -f "$W/$name-parts4/.done" # forget dropped its rows too: measured again
  printf '%s\t%s\n' "$name" "$(cut -d' ' -f1 /proc/loadavg)" >> "$R/loadavg.tsv"
  size_rec "$name" onnx "$onnx"
  timed "$name" zstd-3 1 zstd -q -3 -f "$onnx" -o "$d/m.onnx.zst"
  size_rec "$name" zstd-3 "$d/m.onnx.zst"
  # zstd -19 and xz -9 take about 35 minutes on a 1 GB model: measured up to BENCH_SLOW_MAX
  # (sizes are nominal: the 256M models are a little over 256 MiB)
  if [ "$(fsize "$onnx")" -le $(( $(tobytes "${BENCH_SLOW_MAX:-1G}") * 11 / 10 )) ]; then
    timed "$name" zstd-19 1 zstd -q -19 -f "$onnx" -o "$d/m.onnx.zst19"
    size_rec "$name" zstd-19 "$d/m.onnx.zst19"
    timed "$name" xz-9 1 sh -c 'xz -9 -T1 -c "$1" > "$2"' sh "$onnx" "$d/m.onnx.xz"
    size_rec "$name" xz-9 "$d/m.onnx.xz"
  fi
  rm -f "$d/m.onnx.zst19" "$d/m.onnx.xz"
  # import alone (mcz-inspect reads the model, payloads untouched) and import + export
  timed "$name" import 1 "$B/mcz-inspect" "$onnx"
  if [ -x "$B/sample-resave" ]; then
    timed "$name" import-export 1 "$B/sample-resave" "$onnx" "$d/m.resave.onnx" inline
    rm -f "$d/m.resave.onnx"
  fi
  for j in $THREADS; do
    timed "$name" pack "$j" "$B/mcz-pack" -q -f -j "$j" --report "$d/pack-$j.json" "$onnx" -o "$d/m.mcz"
    timed "$name" quantize "$j" "$B/mcz-quantize" -q -f -j "$j" "$onnx" -o "$d/m.q8.mcz"
    timed "$name" prune "$j" "$B/mcz-prune" -q -f -j "$j" --sparsity 0.5 "$onnx" -o "$d/m.p50.onnx"
    timed "$name" unpack "$j" "$B/mcz-unpack" -q -f -j "$j" "$d/m.mcz" -o "$d/m.rt.onnx"
  done
  # pack again with its output in RAM (tmpfs): on this machine writing a few hundred MB to
  # disk throttles the writer, which hides how the encoding itself scales with threads
  if [ "$(fsize "$onnx")" -ge 100000000 ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    for j in $THREADS; do
      timed "$name" pack-tmpfs "$j" "$B/mcz-pack" -q -f -j "$j" "$onnx" -o "/dev/shm/mcz-bench-$$.mcz"
      rm -f "/dev/shm/mcz-bench-$$.mcz"
    done
  fi
  # prune's output is the size of its input and is fsync'd: to disk, writing it takes about
  # as long as pruning; in RAM the time is the tool's own (the per-core figure)
  if [ "$(fsize "$onnx")" -ge $((15 * 1048576)) ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    timed "$name" prune-tmpfs 1 "$B/mcz-prune" -q -f -j 1 --sparsity 0.5 "$onnx" -o "/dev/shm/mcz-bench-$$.onnx"
    rm -f "/dev/shm/mcz-bench-$$.onnx"
  fi
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
           console.log([process.argv[2], r.raw_bytes, r.stored_bytes].join("\t"))' \
    "$d/pack-1.json" "$name" >> "$R/weights.tsv"
  timed "$name" quantize-minmax "$NCPU" "$B/mcz-quantize" -q -f -j "$NCPU" --method minmax "$onnx" -o "$d/m.q8mm.mcz"
  SOFT=1 timed "$name" partition 1 "$B/mcz-partition" -q -f --parts 4 "$onnx" -o "$d/parts/"
  rm -rf "$d/parts"
  timed "$name" quantize-int4 "$NCPU" "$B/mcz-quantize" -q -f -j "$NCPU" --bits 4 "$onnx" -o "$d/m.q4.mcz"
  timed "$name" quantize-pruned "$NCPU" "$B/mcz-quantize" -q -f -j "$NCPU" "$d/m.p50.onnx" -o "$d/m.p50q8.mcz"
  "$B/mcz-pack" -q -f -j "$NCPU" "$d/m.p50.onnx" -o "$d/m.p50.mcz"
  size_rec "$name" mcz "$d/m.mcz"
  size_rec "$name" int8 "$d/m.q8.mcz"
  size_rec "$name" int4 "$d/m.q4.mcz"
  size_rec "$name" prune50 "$d/m.p50.mcz"
  size_rec "$name" prune50-int8 "$d/m.p50q8.mcz"
  cmp -s "$onnx" "$d/m.rt.onnx" && echo "$name	unpack-identical	1" >> "$R/flags.tsv" \
                                  || echo "$name	unpack-identical	0" >> "$R/flags.tsv"
  rm -f "$d/m.rt.onnx"
  # load throughput: the loader (1 thread, all cores), int8 to float32, zstd -dc, memcpy, protobuf-c
  for j in $THREADS; do
    "$B/mcz-bench" -q -j "$j" --f32 --repeat "$REPEAT" --onnx "$onnx" --report "$d/bench-$j.json" "$d/m.mcz"
    load_rec "$name" mcz "$j" "$d/bench-$j.json"
  done
  "$B/mcz-bench" -q -j "$NCPU" --f32 --repeat "$REPEAT" --report "$d/bench-q8.json" "$d/m.q8.mcz"
  load_rec "$name" int8 "$NCPU" "$d/bench-q8.json"
  printf '%s\tzstd-dc\t1\t%s\t%s\n' "$name" "$(fsize "$onnx")" "$(zstd_dc "$d/m.onnx.zst")" >> "$R/zstd.tsv"
  # size vs error (real models): relative L2 of outputs under ONNX Runtime
  if [ "$real" = 1 ]; then
    local v args
    args=$(compare_args "$name")
    "$B/mcz-unpack" -q -f "$d/m.mcz" -o "$d/v-lossless.onnx"
    "$B/mcz-quantize" -q -f --method minmax "$onnx" -o "$d/v-int8-minmax.onnx"
    "$B/mcz-quantize" -q -f "$onnx" -o "$d/v-int8-mse.onnx"
    "$B/mcz-quantize" -q -f --bits 4 "$onnx" -o "$d/v-int4.onnx"
    "$B/mcz-quantize" -q -f "$d/m.p50.onnx" -o "$d/v-prune50-int8.onnx"
    for v in lossless:m.mcz int8-minmax:m.q8mm.mcz int8-mse:m.q8.mcz int4:m.q4.mcz prune50-int8:m.p50q8.mcz; do
      local vn=${v%%:*} art=${v#*:} rel
      # shellcheck disable=SC2086
      node "$here/tests/ort/compare.js" "$onnx" "$d/v-$vn.onnx" --json --max-rel-l2 1e9 $args > "$d/cmp-$vn.json" || true
      rel=$(node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        if (!r.outputs || !r.outputs.length || r.outputs.some(o => o.error)) { console.log("NA"); process.exit(0); }
        console.log(Math.max(...r.outputs.map(o => o.relL2)));' "$d/cmp-$vn.json" 2>/dev/null || echo NA)
      printf '%s\t%s\t%s\t%s\n' "$name" "$vn" "$(fsize "$d/$art")" "$rel" >> "$R/err.tsv"
    done
  fi
  rm -f "$d"/m.p50.onnx "$d"/v-*.onnx
  touch "$d/.done"
}

# drop the rows of NAME from every table (an interrupted or repeated measurement)
forget() {
  local f
  for f in times sizes load err zstd flags failures weights dtype parts loadavg; do
    [ -f "$R/$f.tsv" ] && awk -F'\t' -v m="$1" '$1 != m' "$R/$f.tsv" > "$R/$f.tmp" && mv "$R/$f.tmp" "$R/$f.tsv"
  done
  return 0
}

# float16 / bfloat16: size against zstd -19 / xz -9, weights ratio, 1-thread load
bench_dtype() { # NAME ONNX DTYPE
  local name=$1 onnx=$2 dt=$3 d=$W/$1
  if [ -f "$d/.done" ]; then echo "== $name: measured before"; return; fi
  echo "== $name ($(fsize "$onnx") bytes)"
  rm -rf "$d"; mkdir -p "$d"
  forget "$name"
  zstd -q -19 -f "$onnx" -o "$d/m.zst19"
  xz -9 -T1 -c "$onnx" > "$d/m.xz"
  "$B/mcz-pack" -q -f -j "$NCPU" --report "$d/pack.json" "$onnx" -o "$d/m.mcz"
  "$B/mcz-bench" -q -j 1 --repeat "$REPEAT" --report "$d/bench.json" "$d/m.mcz"
  node -e 'const fs = require("fs"), a = process.argv;
    const p = JSON.parse(fs.readFileSync(a[1], "utf8")), b = JSON.parse(fs.readFileSync(a[2], "utf8"));
    console.log([a[3], a[4], a[5], a[6], a[7], a[8], p.raw_bytes, p.stored_bytes, b.load.mb_per_s].join("\t"))' \
    "$d/pack.json" "$d/bench.json" "$name" "$dt" "$(fsize "$onnx")" "$(fsize "$d/m.zst19")" \
    "$(fsize "$d/m.xz")" "$(fsize "$d/m.mcz")" >> "$R/dtype.tsv"
  rm -f "$d"/m.*
  touch "$d/.done"
}

# a 4-part .mcz of MODEL: partition time and memory, then loading all partitions on
# 1 thread and on all cores; "not available" when mcz-partition cannot write one
bench_parts() { # NAME ONNX
  local name=$1 onnx=$2 d=$W/$1-parts4
  if [ -f "$d/.done" ]; then echo "== $name: 4-part .mcz measured before"; return; fi
  echo "== $name: 4-part .mcz"
  rm -rf "$d"; mkdir -p "$d"
  awk -F'\t' -v m="$name" '!($1 == m && ($2 == "partition-mcz" || $2 ~ /^parts/))' "$R/times.tsv" > "$R/times.tmp" && mv "$R/times.tmp" "$R/times.tsv"
  [ -f "$R/parts.tsv" ] && awk -F'\t' -v m="$name" '$1 != m' "$R/parts.tsv" > "$R/parts.tmp" && mv "$R/parts.tmp" "$R/parts.tsv"
  [ -f "$R/load.tsv" ] && awk -F'\t' -v m="$name" '!($1 == m && $2 == "parts4")' "$R/load.tsv" > "$R/load.tmp" && mv "$R/load.tmp" "$R/load.tsv"
  SOFT=1 timed "$name" partition-mcz 1 "$B/mcz-partition" -q -f --parts 4 "$onnx" -o "$d/m.mcz"
  if [ ! -f "$d/m.mcz" ] || [ ! -s "$d/m.mcz" ]; then
    printf '%s\tnot available\t%s\n' "$name" "$(tail -n1 "$W/.err" | tr '\t' ' ')" >> "$R/parts.tsv"
  elif "$B/mcz-bench" -q -j "$NCPU" --repeat "$REPEAT" --report "$d/bench.json" "$d/m.mcz" 2> "$W/.err"; then
    printf '%s\tok\t%s\n' "$name" "$(fsize "$d/m.mcz")" >> "$R/parts.tsv"
    load_rec "$name" parts4 "$NCPU" "$d/bench.json"
  else
    printf '%s\tfailed\tmcz-bench: %s\n' "$name" "$(tail -n1 "$W/.err" | tr '\t' ' ')" >> "$R/parts.tsv"
  fi
  rm -rf "$d/m.mcz"
  touch "$d/.done"
}

measure() {
  [ -x "$B/mcz-bench" ] && [ -x "$B/mcz-sample" ] || die "build first (make build): no $B/mcz-bench or $B/mcz-sample"
  for t in zstd xz node bc; do command -v $t > /dev/null || die "$t is needed"; done
  [ "${BENCH_FRESH:-0}" = 1 ] && rm -rf "$W"
  # measurements of an older version of this script lack columns: start again (keeping the
  # generated models)
  if [ -d "$R" ] && [ "$(cat "$R/schema" 2>/dev/null)" != "$SCHEMA" ]; then
    echo "bench.sh: $R holds measurements of an older bench.sh: measuring again"
    find "$W" -mindepth 1 -maxdepth 1 ! -name gen -exec rm -rf {} +
  fi
  mkdir -p "$R" "$W/gen"
  echo "$SCHEMA" > "$R/schema"
  local max s fam largest="" dsize=""
  max=$(tobytes "$MAX")
  echo "$MAX" > "$R/max"
  for s in 1M 16M 256M 1G; do
    [ "$(tobytes $s)" -le "$max" ] || continue
    largest=$s
    [ "$(tobytes $s)" -le "$(tobytes "${BENCH_DTYPE_MAX:-256M}")" ] && dsize=$s
    local fams="mlp cnn transformer"
    [ $s = 1G ] && fams=${BENCH_1G:-$fams}
    for fam in $fams; do
      local m=$W/gen/$fam-$s.onnx
      [ -f "$m" ] || "$B/mcz-sample" "$fam" --size "$s" -o "$m" > /dev/null
      bench_model "$fam-$s" "$m" 0
      rm -f "$W/$fam-$s"/*.mcz "$W/$fam-$s"/*.zst  # keep the disk use down
    done
    if [ $s = 1M ]; then  # the real models after the smallest generated ones
      for fam in ppocrv4-cls ppocrv4-det ppocrv4-rec silero-vad; do
        if [ -f "$CACHE/models/$fam.onnx" ]; then bench_model "$fam" "$CACHE/models/$fam.onnx" 1
        else echo "bench.sh: no $CACHE/models/$fam.onnx (make models): skipped" >&2; fi
      done
    fi
  done
  [ -n "$largest" ] || die "BENCH_MAX=$MAX is below the smallest model (1M)"
  # the 4-part .mcz of the largest generated transformer
  bench_parts "transformer-$largest" "$W/gen/transformer-$largest.onnx"
  # float16 and bfloat16 transformers at the largest size up to 256M
  local dt
  for dt in bfloat16 float16; do
    local m=$W/gen/transformer-$dt-$dsize.onnx
    [ -f "$m" ] || "$B/mcz-sample" transformer --dtype "$dt" --size "$dsize" -o "$m" > /dev/null
    bench_dtype "transformer-$dt-$dsize" "$m" "$dt"
  done
}

# ---- the report ---------------------------------------------------------------------------

svg() { # size vs error: x = size relative to the .onnx (log), y = relative L2 (log)
  awk -F'\t' -v sizes="$R/sizes.tsv" '
    BEGIN { while ((getline l < sizes) > 0) { split(l, a, "\t"); if (a[2] == "onnx") onnx[a[1]] = a[3] } }
    $4 != "NA" { n++; M[n] = $1; V[n] = $2; X[n] = $3 / onnx[$1]; Y[n] = ($4 > 1e-9 ? $4 : 1e-9) }
    function lx(x) { return 80 + (log(x) / log(10) + 2) / 2 * 560 }          # 0.01 .. 1
    function ly(y) { return 40 + (-(log(y) / log(10)) - 0) / 9 * 360 }      # 1 .. 1e-9
    END {
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"860\" height=\"470\" font-family=\"sans-serif\" font-size=\"12\">\n"
      printf "<rect width=\"860\" height=\"470\" fill=\"white\"/>\n"
      printf "<text x=\"360\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">mcz: size vs output error (real models, ONNX Runtime)</text>\n"
      printf "<rect x=\"80\" y=\"40\" width=\"560\" height=\"360\" fill=\"none\" stroke=\"black\"/>\n"
      for (e = -2; e <= 0; e++) { x = lx(10 ^ e); printf "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"400\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"416\" text-anchor=\"middle\">%g</text>\n", x, x, x, 10 ^ e }
      for (e = 0; e <= 9; e++) { y = ly(10 ^ -e); printf "<line x1=\"80\" y1=\"%.1f\" x2=\"640\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"74\" y=\"%.1f\" text-anchor=\"end\">1e-%d</text>\n", y, y, y + 4, e }
      printf "<text x=\"360\" y=\"440\" text-anchor=\"middle\">.mcz size / .onnx size (log)</text>\n"
      printf "<text x=\"20\" y=\"220\" transform=\"rotate(-90 20 220)\" text-anchor=\"middle\">relative L2 of outputs (log; 1e-9 = identical)</text>\n"
      split("#1f77b4 #d62728 #2ca02c #9467bd #ff7f0e", col, " "); split("circle square triangle diamond cross", shp, " ")
      nv = split("lossless int8-minmax int8-mse int4 prune50-int8", vars, " ")
      for (i = 1; i <= nv; i++) vi[vars[i]] = i
      for (k = 1; k <= n; k++) if (!(M[k] in mi)) { nm++; mi[M[k]] = nm; mods[nm] = M[k] }
      for (k = 1; k <= n; k++) {
        x = lx(X[k] < 0.01 ? 0.01 : X[k]); y = ly(Y[k]); c = col[vi[V[k]]]; s = mi[M[k]]
        if (s == 1) printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", x, y, c
        else if (s == 2) printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"/>\n", x - 4.5, y - 4.5, c
        else if (s == 3) printf "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x, y - 6, x - 5, y + 4, x + 5, y + 4, c
        else printf "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x, y - 6, x + 5, y, x, y + 6, x - 5, y, c
      }
      for (i = 1; i <= nv; i++) printf "<rect x=\"660\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"676\" y=\"%d\">%s</text>\n", 40 + 18 * i, col[i], 49 + 18 * i, vars[i]
      for (i = 1; i <= nm; i++) printf "<text x=\"660\" y=\"%d\">%s: %s</text>\n", 170 + 18 * i, (i == 1 ? "circle" : i == 2 ? "square" : i == 3 ? "triangle" : "diamond"), mods[i]
      printf "</svg>\n"
    }' "$R/err.tsv"
}

# err.tsv with a 5th column: the largest max |a-b| over the outputs (from the kept compare JSON)
maxabs() {
  local m v b r
  while IFS=$'\t' read -r m v b r; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$v" "$b" "$r" "$(node -e '
      try { const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            console.log(Math.max(...r.outputs.map(o => o.maxAbs)).toPrecision(3)); } catch (e) { console.log("NA"); }' "$W/$m/cmp-$v.json")"
  done < "$R/err.tsv"
}

report() {
  [ -f "$R/times.tsv" ] || die "no measurements in $R: run scripts/bench.sh first"
  local max gens
  # the largest generated size measured, and which generated models were measured
  max=$(awk -F"\t" '$2 == "onnx" && $1 ~ /^(mlp|cnn|transformer)-/ && $3 > b { b = $3; split($1, p, "-"); s = p[2] } END { print s }' "$R/sizes.tsv")
  gens=$(awk -F"\t" '$2 == "onnx" && $1 ~ /^(mlp|cnn|transformer)-/ { printf "%s%s", (n++ ? ", " : ""), $1 }' "$R/sizes.tsv")
  # rows in a stable order: generated families by size, then the real models
  local f
  for f in times sizes load zstd err weights; do
    [ -f "$R/$f.tsv" ] || continue
    awk -F"\t" -v s="$R/sizes.tsv" 'BEGIN { while ((getline l < s) > 0) { split(l, a, "\t"); if (a[2] == "onnx") b[a[1]] = a[3] } }
      { k = ($1 ~ /^mlp-/ ? 1 : $1 ~ /^cnn-/ ? 2 : $1 ~ /^transformer-/ ? 3 : 4); printf "%d\t%015d\t%s\n", k, (k < 4 ? b[$1] : 0), $0 }' "$R/$f.tsv" | sort -s -t "$(printf '\t')" -k1,1n -k2,2n | cut -f3- > "$R/$f.tmp" && mv "$R/$f.tmp" "$R/$f.tsv"
  done
  [ -f "$R/err.tsv" ] && svg > "$SVG"
  # per model: the .onnx size, and the bytes of weights (raw, as mcz-pack counts them)
  ONNXSZ='BEGIN { while ((getline l < sizes) > 0) { split(l, a, "\t"); if (a[2] == "onnx") onnx[a[1]] = a[3] }
                  while ((getline l < weights) > 0) { split(l, a, "\t"); wb[a[1]] = a[2]; ws[a[1]] = a[3] } }'
  touch "$R/weights.tsv" "$R/load.tsv" "$R/zstd.tsv" "$R/sizes.tsv"
  local aw=(-v sizes="$R/sizes.tsv" -v weights="$R/weights.tsv" -v ncpu="$NCPU")
  : > "$R/growth-flags.txt"
    awk -F'\t' -v flags="$R/growth-flags.txt" "${aw[@]}" "$ONNXSZ"'
      $1 ~ /^(mlp|cnn|transformer)-/ && (($2 ~ /^(pack|quantize|prune|unpack)$/ && $3 == ncpu) || ($2 ~ /^(import|import-export)$/ && $3 == 1)) && $4 != "failed" {
        split($1, p, "-"); fam = p[1]; sz = p[2]; mib = onnx[$1] / 1048576
        k = fam SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        if (!(sz in szs)) { szs[sz] = 1; szl[++ns] = sz }
        sp[k, sz] = $4 / mib; rp[k, sz] = $5 / 1024 / mib }
      END {
        hdr = "| family | step |"; sep = "|---|---|"
        for (j = 1; j <= ns; j++) { hdr = hdr " " szl[j] " s/MiB | " szl[j] " RSS/MiB |"; sep = sep "---:|---:|" }
        print hdr " time ratio | RSS ratio |"; print sep "---:|---:|"
        for (i = 1; i <= n; i++) { k = order[i]; split(k, q, SUBSEP); line = "| " q[1] " | " q[2] " |"; lo = ""; hi = ""
          for (j = 1; j <= ns; j++) { if (!((k, szl[j]) in sp)) { line = line " | |"; continue }
            line = line sprintf(" %.4f | %.2f |", sp[k, szl[j]], rp[k, szl[j]])
            if (szl[j] != "1M") { if (lo == "") lo = szl[j]; hi = szl[j] } }
          if (lo != "" && hi != lo && sp[k, lo] > 0 && rp[k, lo] > 0) { tr = sp[k, hi] / sp[k, lo]; rr = rp[k, hi] / rp[k, lo]
            line = line sprintf(" %s%.2f%s | %s%.2f%s |", (tr > 1.5 ? "**" : ""), tr, (tr > 1.5 ? "**" : ""), (rr > 1.5 ? "**" : ""), rr, (rr > 1.5 ? "**" : ""))
            if (tr > 1.5) printf "%s %s time per MiB %.2fx from %s to %s\n", q[1], q[2], tr, lo, hi > flags
            if (rr > 1.5) printf "%s %s peak RSS per MiB %.2fx from %s to %s\n", q[1], q[2], rr, lo, hi > flags }
          else line = line " | |"
          print line } }' "$R/times.tsv" > "$R/growth.md"
  {
    echo "# Benchmarks"
    echo
    echo "Written by \`scripts/bench.sh\` (\`make bench\`) from measurements finished $(date -u -r "$(ls -t "$W"/*/.done | head -n1)" '+%Y-%m-%d %H:%M UTC'); every figure in this file"
    echo "comes from that script's measurements (raw rows: \`\$BENCH_DIR/results/*.tsv\`, outside the"
    echo "repository), and the targets are checked against them at the end of the run"
    echo "(*Targets*). Generated models measured: $gens. 1 MB = 10^6 bytes; MiB = 2^20."
    echo
    [ -z "${BENCH_NOTE:-}" ] || { echo "Note on this run: $BENCH_NOTE"; echo; }
    echo "Ratios measured side by side in one run (mcz vs zstd/xz, the loader vs memcpy, 1 thread vs"
    echo "$NCPU) are the headline; absolute times belong to this machine (its load average when each"
    echo "model started is below: anything else running makes them noisy). Every timed step starts"
    echo "after a \`sync\`, so the write-back of an earlier step's output does not land in it."
    echo
    echo "## Machine"
    echo
    echo '```'
    lscpu | grep -E '^(Model name|Architecture|CPU\(s\)|Thread|Core|Socket|L2|L3)' || true
    free -h | head -2
    uname -srm
    echo "zstd $(zstd -V | grep -oE 'v[0-9.]+'), $(xz --version | head -1), node $(node -v)"
    [ -f "$R/loadavg.tsv" ] && awk -F'\t' 'NR == 1 || $2 < lo { lo = $2 } $2 > hi { hi = $2 } END { printf "load average (1 min) when each model was started: %s to %s\n", lo, hi }' "$R/loadavg.tsv"
    echo '```'
    echo
    echo "## Targets"
    echo
    echo "Checked by the script against the tables below (not by timed tests); **MISSED** marks a"
    echo "target this run did not meet."
    echo
    {
      awk -F'\t' '{ v[$1, $2] = $3; ms[$1] = 1 }
        END { for (m in ms) if (m !~ /^(mlp|cnn|transformer)-/) { best = v[m, "zstd-19"] < v[m, "xz-9"] ? v[m, "zstd-19"] : v[m, "xz-9"]
          printf "- #3/#7 lossless .mcz < best of zstd -19 / xz -9 on %s: %s (%d vs %d bytes)\n", m, (v[m, "mcz"] < best ? "met" : "**MISSED**"), v[m, "mcz"], best
          o = v[m, "onnx"]
          if (o > 0) {
            printf "- #4 int8 .mcz ≤ 0.235x the .onnx on %s: %s (%.3fx)\n", m, (v[m, "int8"] / o <= 0.235 ? "met" : "**MISSED**"), v[m, "int8"] / o
            printf "- #4 int4 .mcz ≤ 0.14x the .onnx on %s: %s (%.3fx)\n", m, (v[m, "int4"] / o <= 0.14 ? "met" : "**MISSED**"), v[m, "int4"] / o
            if ((m, "prune50") in v) printf "- #5 prune 50 %% .mcz ≤ 0.60x the .onnx on %s: %s (%.3fx)\n", m, (v[m, "prune50"] / o <= 0.60 ? "met" : "**MISSED**"), v[m, "prune50"] / o
            printf "- #5 prune 50 %% + int8 .mcz ≤ 0.16x the .onnx on %s: %s (%.3fx)\n", m, (v[m, "prune50-int8"] / o <= 0.16 ? "met" : "**MISSED**"), v[m, "prune50-int8"] / o } } }' "$R/sizes.tsv" | sort
      awk -F'\t' -v m=ppocrv4-det '$1 == m && $3 > 0 { printf "- #3 trained float32 weights (%s) ≥ 1.17x: %s (%.3fx, raw / stored)\n", m, ($2 / $3 >= 1.17 ? "met" : "**MISSED**"), $2 / $3 }' "$R/weights.tsv"
      [ -f "$R/dtype.tsv" ] && awk -F'\t' '$3 > 0 {
          best = $4 < $5 ? $4 : $5
          printf "- #3 lossless .mcz < zstd -19 of the .onnx on %s: %s (%d vs %d)\n", $1, ($6 < $4 ? "met" : "**MISSED**"), $6, $4
          if ($2 == "bfloat16") printf "- #3 bfloat16 ≥ 1.5x (%s, .onnx / .mcz): %s (%.3fx)\n", $1, ($3 / $6 >= 1.5 ? "met" : "**MISSED**"), $3 / $6 }' "$R/dtype.tsv"
      awk -F'\t' -v zf="$R/zstd.tsv" "${aw[@]}" "$ONNXSZ"'
        BEGIN { while ((getline l < zf) > 0) { split(l, a, "\t"); if (a[5] > 0) z[a[1]] = a[4] / a[5] / 1e6 } }
        { v[$1, $2, $3, $4] = $9; ms[$1] = 1 }
        END { for (m in ms) { l = v[m, "mcz", ncpu, "load"]; if (v[m, "mcz", 1, "load"] > l) l = v[m, "mcz", 1, "load"]
          printf "- #7 loader ≥ zstd -dc on %s: %s (%.0f vs %.0f MB/s)\n", m, (l >= z[m] ? "met" : "**MISSED**"), l, z[m]
          if (onnx[m] >= 15 * 1048576) printf "- #3 loader ≥ 1,600 MB/s of output on 1 core on %s: %s (%.0f MB/s; memcpy of as many bytes into fresh memory in the same run: %.0f MB/s)\n", m, (v[m, "mcz", 1, "load"] >= 1600 ? "met" : "**MISSED**"), v[m, "mcz", 1, "load"], v[m, "mcz", 1, "memcpy"]
          if (onnx[m] >= 15 * 1048576 && (m, "int8", ncpu, "memcpy_f32") in v && v[m, "int8", ncpu, "load_f32"] > 0) { r = v[m, "int8", ncpu, "memcpy_f32"] / v[m, "int8", ncpu, "load_f32"]
            printf "- #7 int8 .mcz loaded as float32 within 3x of memcpy on %s: %s (%.2fx the time of memcpy)\n", m, (r <= 3 ? "met" : "**MISSED**"), r } } }' "$R/load.tsv" | sort
      echo "- #7 int8 as float32 within 3x of memcpy is checked on models ≥ 15 MiB only: below that, opening the file and starting threads dominate a memcpy of well under a millisecond"
      awk -F'\t' '$2 == "int8" && $4 == "load_f32" && ($12 == 0 || $12 == "") { n++ } END { if (n) printf "- #7 note: on %d models the int8 .mcz holds no quantization parameters (codes stored as plain int8 tensors), so *loaded as float32* there is the codes read as stored, not dequantized\n", n }' "$R/load.tsv"
      awk -F'\t' "${aw[@]}" "$ONNXSZ"'
        { t[$1, $2, $3] = $4; r[$1, $2, $3] = $5; ms[$1] = 1
          if ($5 != "NA" && $2 !~ /^(zstd|xz|import)/ && onnx[$1] >= 15 * 1048576) { x = $5 * 1024 / onnx[$1]; big[$1] = 1
            if (x > worst[$1]) { worst[$1] = x; wst[$1] = $2 " -j" $3 }
            if (x > 1.5) over[$1] = over[$1] sprintf("%s -j%s %.2fx; ", $2, $3, x) } }
        END { for (m in big) printf "- #7 peak RSS ≤ 1.5x model size on %s: %s (worst %s, %.2fx)%s\n", m, (m in over ? "**MISSED**" : "met"), wst[m], worst[m], (m in over ? ": " over[m] : "")
          for (m in ms) if (onnx[m] >= 15 * 1048576) {
            if ((m, "import-export", 1) in t && r[m, "import-export", 1] != "NA") { x = r[m, "import-export", 1] * 1024 / onnx[m]
              printf "- #2 import + export holds about one copy of the weights (peak RSS ≤ 1.25x the .onnx) on %s: %s (%.2fx)\n", m, (x <= 1.25 ? "met" : "**MISSED**"), x }
            w = wb[m] / 1e6
            if (onnx[m] >= 100e6 && (m, "quantize", ncpu) in t && t[m, "quantize", ncpu] > 0) printf "- #4 quantize -j%d --method mse ≥ 100 MB/s of weights on %s: %s (%.0f MB/s)\n", ncpu, m, (w / t[m, "quantize", ncpu] >= 100 ? "met" : "**MISSED**"), w / t[m, "quantize", ncpu]
            if (onnx[m] >= 100e6 && (m, "quantize-minmax", ncpu) in t && t[m, "quantize-minmax", ncpu] > 0) printf "- #4 quantize -j%d --method minmax ≥ 300 MB/s of weights on %s: %s (%.0f MB/s)\n", ncpu, m, (w / t[m, "quantize-minmax", ncpu] >= 300 ? "met" : "**MISSED**"), w / t[m, "quantize-minmax", ncpu]
            if ((m, "prune", 1) in t && t[m, "prune", 1] > 0) printf "- #5 prune ≥ 200 MB/s of weights per core (-j1, output to disk) on %s: %s (%.0f MB/s)\n", m, (w / t[m, "prune", 1] >= 200 ? "met" : "**MISSED**"), w / t[m, "prune", 1]
            if ((m, "prune-tmpfs", 1) in t && t[m, "prune-tmpfs", 1] > 0) printf "- #5 prune ≥ 200 MB/s of weights per core (-j1, output to tmpfs) on %s: %s (%.0f MB/s)\n", m, (w / t[m, "prune-tmpfs", 1] >= 200 ? "met" : "**MISSED**"), w / t[m, "prune-tmpfs", 1] }
          for (m in ms) if (onnx[m] >= 100e6 && ncpu > 1) { split("pack pack-tmpfs quantize", st, " ")
            for (i = 1; i <= 3; i++) if ((m, st[i], 1) in t && t[m, st[i], ncpu] > 0) { sp = t[m, st[i], 1] / t[m, st[i], ncpu]
              printf "- #7 %d threads ≥ 1.7x faster for %s on %s: %s (%.2fx)\n", ncpu, st[i], m, (sp >= 1.7 ? "met" : "**MISSED**"), sp } } }' "$R/times.tsv" | sort
      awk -F'\t' "${aw[@]}" "$ONNXSZ"'
        $2 == "mcz" && $4 == "load" && onnx[$1] >= 100e6 { v[$1, $3] = $6; ms[$1] = 1 }
        END { for (m in ms) if (ncpu > 1 && v[m, ncpu] > 0) printf "- #7 %d threads ≥ 1.7x faster for load on %s: %s (%.2fx)\n", ncpu, m, (v[m, 1] / v[m, ncpu] >= 1.7 ? "met" : "**MISSED**"), v[m, 1] / v[m, ncpu] }' "$R/load.tsv" | sort
      if ! awk -F'\t' '$2 == "onnx" && $3 >= 100e6 { f = 1 } END { exit !f }' "$R/sizes.tsv"; then
        echo "- #7 $NCPU threads ≥ 1.7x for pack, quantize and load on models ≥ 100 MB: **NOT MEASURED** (no model that large in this run)"
        echo "- #4 quantize -j$NCPU ≥ 100 MB/s (mse) / ≥ 300 MB/s (minmax) on a 1 GB transformer: **NOT MEASURED** (no model ≥ 100 MB in this run; see *Throughput of the tools*)"
      fi
      if [ -f "$R/parts.tsv" ]; then
        awk -F'\t' -v lf="$R/load.tsv" '
          BEGIN { while ((getline l < lf) > 0) { split(l, a, "\t"); if (a[2] == "parts4") t[a[1], a[4]] = a[6] } }
          $2 == "ok" && t[$1, "parts_parallel"] > 0 { sp = t[$1, "parts_serial"] / t[$1, "parts_parallel"]
            printf "- #6 4-part .mcz of %s: all partitions on 2 threads ≥ 1.7x faster than on 1: %s (%.2fx)\n", $1, (sp >= 1.7 ? "met" : "**MISSED**"), sp }
          $2 != "ok" { printf "- #6 4-part .mcz of %s: **NOT MEASURED** (%s: %s)\n", $1, $2, $3 }' "$R/parts.tsv"
      fi
      if [ -s "$R/growth-flags.txt" ]; then
        echo "- #7 linear growth 1 MB → 1 GB (per-MiB figures within 1.5x from 16M up; largest size in this run: $max): **MISSED** where $(paste -sd';' "$R/growth-flags.txt" | sed 's/;/; /g')"
      elif [ "$max" = 1M ] || [ "$max" = 16M ]; then
        echo "- #7 linear growth 1 MB → 1 GB: **NOT MEASURED** (largest size in this run: $max; the check needs two sizes from 16M up)"
      else
        echo "- #7 linear growth 1 MB → 1 GB (per-MiB time and peak RSS within 1.5x from 16M up to $max): met"
      fi
      [ -f "$R/failures.tsv" ] && awk -F"\t" "{ printf \"- %s: %s failed: %s\\n\", \$1, \$2, \$3 }" "$R/failures.tsv"
      awk -F'\t' '$2 == "unpack-identical" && $3 == 0 { l = l (n++ ? ", " : "") $1 } END { if (n) printf "- note: mcz-unpack does not give the .onnx back byte for byte on %s (same model, different serialisation)\n", l }' "$R/flags.tsv" 2>/dev/null
      :
    } | awk '{ k = match($0, /#[0-9]+/) ? substr($0, RSTART + 1, RLENGTH - 1) : 99; print k "\t" $0 }' | sort -s -t "$(printf '\t')" -k1,1n | cut -f2-
    echo
    echo "## Sizes (bytes)"
    echo
    echo "zstd and xz compress the .onnx file; the .mcz columns are the files the tools write:"
    echo "lossless \`mcz-pack\`; int8 \`mcz-quantize\` (mse method, per channel); int4 \`--bits 4\` (blocks"
    echo "of 32); prune 50 %: \`mcz-prune --sparsity 0.5\` to .onnx, then \`mcz-pack\`; prune 50 % + int8:"
    echo "the pruned .onnx through \`mcz-quantize\`."
    echo
    awk -F'\t' '
      { v[$1, $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
      END {
        print "| model | .onnx | zstd -3 | zstd -19 | xz -9 | .mcz lossless | ratio | vs best of zstd -19/xz -9 | int8 | int4 | prune 50% | prune 50% + int8 |"
        print "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]
          if (!((m, "zstd-19") in v) || !((m, "xz-9") in v)) { # over BENCH_SLOW_MAX
            printf "| %s | %d | %d | not run | not run | %d | %.3fx | not measured | %d | %d | %s | %d |\n", m, v[m, "onnx"], v[m, "zstd-3"], v[m, "mcz"],
              v[m, "onnx"] / v[m, "mcz"], v[m, "int8"], v[m, "int4"], ((m, "prune50") in v ? v[m, "prune50"] : ""), v[m, "prune50-int8"]
            continue }
          best = v[m, "zstd-19"] < v[m, "xz-9"] ? v[m, "zstd-19"] : v[m, "xz-9"]
          printf "| %s | %d | %d | %d | %d | %d | %.3fx | %s %.1f%% | %d | %d | %s | %d |\n", m, v[m, "onnx"], v[m, "zstd-3"], v[m, "zstd-19"], v[m, "xz-9"], v[m, "mcz"],
            v[m, "onnx"] / v[m, "mcz"], (v[m, "mcz"] < best ? "smaller by" : "**LARGER** by"), 100 * (v[m, "mcz"] - best) / best * (v[m, "mcz"] < best ? -1 : 1),
            v[m, "int8"], v[m, "int4"], ((m, "prune50") in v ? v[m, "prune50"] : ""), v[m, "prune50-int8"] } }' "$R/sizes.tsv"
    echo
    echo "### Relative to the .onnx"
    echo
    echo "Each artifact's size over the float32 .onnx (targets: int8 ≤ 0.235, int4 ≤ 0.14, prune 50 % ≤ 0.60,"
    echo "prune 50 % + int8 ≤ 0.16 on the real models); *weights raw / stored*: the weights' raw bytes over"
    echo "their stored bytes in the lossless .mcz (\`mcz-pack --report\`; target ≥ 1.17x on trained float32)."
    echo
    awk -F'\t' -v weights="$R/weights.tsv" '
      BEGIN { while ((getline l < weights) > 0) { split(l, a, "\t"); wb[a[1]] = a[2]; ws[a[1]] = a[3] } }
      { v[$1, $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
      END {
        print "| model | lossless | weights raw / stored | int8 | int4 | prune 50% | prune 50% + int8 |"
        print "|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]; o = v[m, "onnx"]; if (!o) continue
          printf "| %s | %.3f | %s | %.3f | %.3f | %s | %.3f |\n", m, v[m, "mcz"] / o, (ws[m] > 0 ? sprintf("%.3fx", wb[m] / ws[m]) : ""),
            v[m, "int8"] / o, v[m, "int4"] / o, ((m, "prune50") in v ? sprintf("%.3f", v[m, "prune50"] / o) : ""), v[m, "prune50-int8"] / o } }' "$R/sizes.tsv"
    echo
    if [ -f "$R/dtype.tsv" ]; then
      echo "### Float16 and bfloat16"
      echo
      echo "\`mcz-sample transformer --dtype float16|bfloat16\`: sizes in bytes, ratios .onnx / compressed,"
      echo "and the 1-thread load (\`mcz-bench -j 1\`, MB/s of output). Target: bfloat16 ≥ 1.5x."
      echo
      echo "| model | .onnx | zstd -19 | xz -9 | .mcz | weights raw / stored | load 1 thread MB/s |"
      echo "|---|---:|---:|---:|---:|---:|---:|"
      awk -F'\t' '{ printf "| %s | %d | %d (%.3fx) | %d (%.3fx) | **%d (%.3fx)** | %.3fx | %.0f |\n", $1, $3, $4, $3 / $4, $5, $3 / $5, $6, $3 / $6, ($8 > 0 ? $7 / $8 : 0), $9 }' "$R/dtype.tsv"
      echo
    fi
    echo "## Tool time and peak memory"
    echo
    echo "Wall time in seconds and peak RSS (\`/usr/bin/time -f %M\`) on 1 thread and on all $NCPU cores (\`-j\`)."
    echo "\`import\`: \`mcz-inspect MODEL.onnx\` (import only); \`import-export\`: \`sample-resave MODEL.onnx OUT.onnx\`"
    echo "(libcompress import then export, tests/samples/resave.c); \`partition\`: \`mcz-partition --parts 4 -o DIR/\`;"
    echo "\`partition-mcz\`: \`mcz-partition --parts 4 -o OUT.mcz\`; these have no thread option (one run)."
    echo "RSS/size: peak RSS over the .onnx size (target ≤ 1.5)."
    echo
    awk -F'\t' "${aw[@]}" "$ONNXSZ"'
      $2 ~ /^(import|import-export|pack|quantize|quantize-minmax|prune|unpack|partition|partition-mcz|quantize-int4|quantize-pruned)$/ {
        k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        t[k, $3] = $4; r[k, $3] = $5 }
      END {
        print "| model | step | 1 thread s | peak RSS MiB | " ncpu " threads s | peak RSS MiB | speed-up | max RSS/size |"
        print "|---|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { split(order[i], p, SUBSEP); k = order[i]
          t1 = ((k, 1) in t) ? t[k, 1] : ""; tn = ((k, ncpu) in t) ? t[k, ncpu] : ""
          r1 = ((k, 1) in r && r[k, 1] != "NA") ? r[k, 1] : ""; rn = ((k, ncpu) in r && r[k, ncpu] != "NA") ? r[k, ncpu] : ""
          mr = (r1 + 0 > rn + 0 ? r1 : rn) * 1024
          x = mr / onnx[p[1]]
          printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[2], t1, (r1 == "" ? "" : sprintf("%.1f", r1 / 1024)), tn,
            (rn == "" ? "" : sprintf("%.1f", rn / 1024)), ((t1 + 0 > 0 && tn + 0 > 0 && ncpu > 1) ? sprintf("%.2fx", t1 / tn) : ""),
            (mr == 0 ? "" : x > 1.5 ? sprintf("**%.2f**", x) : sprintf("%.2f", x)) } }' "$R/times.tsv"
    echo
    echo "### Throughput of the tools"
    echo
    echo "MB/s of weights (their raw bytes, as \`mcz-pack --report\` counts them) over the wall times above."
    echo "Targets: quantize with \`-j $NCPU\` ≥ 100 MB/s (mse) and ≥ 300 MB/s (minmax), prune ≥ 200 MB/s per core,"
    echo "on models of real size."
    echo
    awk -F'\t' "${aw[@]}" "$ONNXSZ"'
      { t[$1, $2, $3] = $4; if (!($1 in seen) && ($1 in wb)) { seen[$1] = 1; order[++n] = $1 } }
      function r(m, s, j) { return ((m, s, j) in t && t[m, s, j] + 0 > 0) ? sprintf("%.0f", wb[m] / 1e6 / t[m, s, j]) : "" }
      END {
        print "| model | weights MB | pack 1 thr | pack " ncpu " thr | quantize mse 1 thr | quantize mse " ncpu " thr | quantize minmax " ncpu " thr | quantize int4 " ncpu " thr | prune 1 thr | prune " ncpu " thr | unpack 1 thr | unpack " ncpu " thr |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]
          printf "| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m, wb[m] / 1e6, r(m, "pack", 1), r(m, "pack", ncpu),
            r(m, "quantize", 1), r(m, "quantize", ncpu), r(m, "quantize-minmax", ncpu), r(m, "quantize-int4", ncpu),
            r(m, "prune", 1), r(m, "prune", ncpu), r(m, "unpack", 1), r(m, "unpack", ncpu) } }' "$R/times.tsv"
    echo
    echo "### Import and export memory"
    echo
    echo "Peak RSS of importing a model (\`mcz-inspect\`, payloads untouched) and of importing then exporting"
    echo "it (\`sample-resave\`), over the .onnx size: about 1.0 means one copy of the weights (the input's"
    echo "memory mapping, page cache), see \`docs/architecture.md\`."
    echo
    awk -F'\t' "${aw[@]}" "$ONNXSZ"'
      $2 == "import" || $2 == "import-export" { k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }; t[k, $2] = $4; r[k, $2] = $5 }
      END {
        print "| model | .onnx MiB | import s | import peak RSS MiB | import + export s | import + export peak RSS MiB | RSS / .onnx |"
        print "|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]
          printf "| %s | %.1f | %s | %.1f | %s | %s | %s |\n", m, onnx[m] / 1048576, t[m, "import"], r[m, "import"] / 1024, t[m, "import-export"],
            ((m, "import-export") in r ? sprintf("%.1f", r[m, "import-export"] / 1024) : ""), ((m, "import-export") in r ? sprintf("%.2f", r[m, "import-export"] * 1024 / onnx[m]) : "") } }' "$R/times.tsv"
    echo
    echo "## Load throughput"
    echo
    echo "\`mcz-bench\` (median of $REPEAT runs; MB = 10^6 bytes of output): open to every tensor in memory"
    echo "through the loader (\`mcz_load_all\`; destination memory freshly allocated, so page faults are"
    echo "included), on 1 thread and $NCPU; memcpy of the same bytes into fresh memory on one thread (the ceiling of"
    echo "one core); the protobuf-c baseline (read + \`onnx__model_proto__unpack\` + weights to float32);"
    echo "\`zstd -dc\` of the \`zstd -3\` .onnx to /dev/null (output MB/s of the .onnx, single-threaded as"
    echo "zstd decompression is). Targets: loader ≥ zstd -dc; ≥ 1,600 MB/s on one core."
    echo
    awk -F'\t' -v zf="$R/zstd.tsv" -v ncpu="$NCPU" '
      BEGIN { while ((getline l < zf) > 0) { split(l, a, "\t"); if (a[5] > 0) z[a[1]] = a[4] / a[5] / 1e6 } }
      $2 == "mcz" || $2 == "int8" { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }; v[$1, $2, $3, $4] = $9; rss[$1, $2, $3, $4] = $10 }
      END {
        print "| model | loader 1 thr MB/s | loader " ncpu " thr MB/s | speed-up | zstd -dc MB/s | memcpy MB/s | protobuf-c MB/s | loader/zstd | memcpy/loader | loader peak RSS MiB |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]; l1 = v[m, "mcz", 1, "load"]; ln = v[m, "mcz", ncpu, "load"]; best = (ln > l1 ? ln : l1)
          printf "| %s | %.0f | %.0f | %s | %.0f | %.0f | %.0f | %s%.2fx%s | %.2fx | %.1f |\n", m, l1, ln, (l1 > 0 && ncpu > 1 ? sprintf("%.2fx", ln / l1) : ""), z[m], v[m, "mcz", 1, "memcpy"],
            v[m, "mcz", 1, "onnx_protobuf_c"], (best < z[m] ? "**" : ""), (z[m] > 0 ? best / z[m] : 0), (best < z[m] ? "**" : ""),
            (best > 0 ? v[m, "mcz", 1, "memcpy"] / best : 0), rss[m, "mcz", ncpu, "load"] / 1048576 } }' "$R/load.tsv"
    echo
    echo "### int8 artifacts loaded as float32"
    echo
    echo "\`mcz-bench --f32 -j $NCPU\` on the int8 .mcz: open to every tensor ready as float32 (\`mcz_read_f32\`,"
    echo "tensors shared out to $NCPU threads: int8/int4 codes with quantization parameters dequantized, float"
    echo "tensors converted, anything else read as stored), against memcpy of as many float32 bytes on one"
    echo "thread. Target: within 3x of memcpy. *quantized tensors*: how many the loader dequantized;"
    echo "*read as stored*: bytes of tensors that are not float-convertible."
    echo
    awk -F'\t' '
      $2 == "int8" { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }; v[$1, $4] = $9; b[$1, $4] = $5; s[$1, $4] = $6; u[$1] = $11; q[$1] = $12 }
      END {
        print "| model | float32 bytes | load as float32 MB/s | memcpy MB/s | load / memcpy time | quantized tensors | read as stored bytes |"
        print "|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) { m = order[i]; if (!((m, "load_f32") in v)) continue
          r = s[m, "memcpy_f32"] > 0 ? s[m, "load_f32"] / s[m, "memcpy_f32"] : 0
          printf "| %s | %d | %.0f | %.0f | %s%.2fx%s | %s | %d |\n", m, b[m, "load_f32"], v[m, "load_f32"], v[m, "memcpy_f32"], (r > 3 ? "**" : ""), r, (r > 3 ? "**" : ""), q[m], u[m] } }' "$R/load.tsv"
    echo
    echo "### Partitions loaded in parallel"
    echo
    if [ -f "$R/parts.tsv" ]; then
      echo "\`mcz-partition MODEL --parts 4 -o X.mcz\` of the largest generated transformer, then \`mcz-bench -j $NCPU\`:"
      echo "all partitions loaded with \`mcz_load_part\`, one after another on 1 thread, and on $NCPU threads"
      echo "taking one partition each at a time (median of $REPEAT). Target: $NCPU threads ≥ 1.7x faster than 1."
      echo
      awk -F'\t' -v lf="$R/load.tsv" '
        BEGIN { while ((getline l < lf) > 0) { split(l, a, "\t"); if (a[2] == "parts4") { v[a[1], a[4]] = a[9]; s[a[1], a[4]] = a[6]; b[a[1]] = a[5] } } }
        NR == 1 { print "| model | .mcz bytes | weights MB | 1 thread s | 1 thread MB/s | parallel s | parallel MB/s | speed-up |"; print "|---|---:|---:|---:|---:|---:|---:|---:|" }
        $2 == "ok" { printf "| %s | %d | %.1f | %.4f | %.0f | %.4f | %.0f | %.2fx |\n", $1, $3, b[$1] / 1e6, s[$1, "parts_serial"], v[$1, "parts_serial"], s[$1, "parts_parallel"], v[$1, "parts_parallel"], (s[$1, "parts_parallel"] > 0 ? s[$1, "parts_serial"] / s[$1, "parts_parallel"] : 0) }
        $2 != "ok" { printf "| %s | %s: %s | | | | | | |\n", $1, $2, $3 }' "$R/parts.tsv"
    else
      echo "Not measured in this run."
    fi
    echo
    echo "## Growth with model size"
    echo
    echo "Seconds and peak RSS per MiB of .onnx for each generated family, on $NCPU threads; growth is"
    echo "linear when the per-MiB figures stay flat. *ratio* = per-MiB figure at the largest size over"
    echo "the smallest ≥ 16M size (1M models are dominated by start-up costs); above 1.5 is flagged."
    echo
    cat "$R/growth.md"
    echo
    if [ -f "$R/err.tsv" ]; then
      echo "## Size vs error (real models)"
      echo
      echo "![size vs error](benchmarks-size-error.svg)"
      echo
      echo "Relative L2 of the outputs (\`node tests/ort/compare.js ORIG VARIANT --json\`, largest over"
      echo "the outputs; seeded inputs) against the .mcz size of each variant. Lossless shows 0. Where the max abs"
      echo "difference is tiny and rel L2 large, the model's outputs on random inputs are close to zero"
      echo "(PP-OCR det's sigmoid map) and rel L2 says little."
      echo
      awk -F'\t' -v sizes="$R/sizes.tsv" '
        BEGIN { while ((getline l < sizes) > 0) { split(l, a, "\t"); if (a[2] == "onnx") onnx[a[1]] = a[3] } }
        NR == 1 { print "| model | variant | .mcz bytes | of .onnx | rel L2 | max abs diff |"; print "|---|---|---:|---:|---:|---:|" }
        { printf "| %s | %s | %d | %.1f%% | %s | %s |\n", $1, $2, $3, 100 * $3 / onnx[$1], ($4 == "NA" ? "NA" : sprintf("%.3g", $4)), $5 }' <(maxabs)
      echo
    fi
    echo "## Reproduce"
    echo
    echo '```'
    echo "make build models          # the tools, and the real models into \$MCZ_CACHE/models"
    echo "make bench                 # BENCH_MAX=1G by default"
    echo "make bench BENCH_MAX=$max$(printf '%*s' $((6 - ${#max})) '')# as this run"
    echo "bash scripts/bench.sh report   # rebuild this file from the recorded measurements"
    echo '```'
    echo
    echo "Per model the script runs: \`mcz-sample mlp|cnn|transformer --size S\` (1M, 16M, 256M, 1G up to"
    echo "BENCH_MAX); \`zstd -3\`, \`zstd -19\`, \`xz -9 -T1\` of the .onnx; \`mcz-inspect\` and \`sample-resave\`"
    echo "(import, import + export); \`mcz-pack --report\`, \`mcz-quantize\`, \`mcz-prune --sparsity 0.5\`,"
    echo "\`mcz-unpack\` with \`-j 1\` and \`-j $NCPU\`; \`mcz-quantize -j $NCPU --method minmax\`, \`--bits 4\`, and of the"
    echo "pruned .onnx; \`mcz-pack\` of the pruned .onnx; \`mcz-partition --parts 4 -o DIR/\`;"
    echo "\`mcz-bench -j N --f32 --repeat $REPEAT --onnx MODEL.onnx\` on the lossless .mcz and \`mcz-bench -j $NCPU --f32\`"
    echo "on the int8 one; \`zstd -dc\` $REPEAT times. Once: \`mcz-partition --parts 4 -o X.mcz\` of the largest"
    echo "generated transformer and \`mcz-bench -j $NCPU\` on it; \`mcz-sample transformer --dtype bfloat16|float16\`"
    echo "at the largest size up to 256M, \`zstd -19\`, \`xz -9\`, \`mcz-pack\`, \`mcz-bench -j 1\`. For the real"
    echo "models \`mcz-quantize --method minmax|mse\`, \`--bits 4\`, prune + quantize to .onnx and"
    echo "\`node tests/ort/compare.js ORIG VARIANT --json\`. Peak RSS: \`/usr/bin/time -f %M\`."
  } > "$DOC"
  echo "wrote $DOC${R:+ and $SVG}"
}

main() {
  case ${1:-all} in
    report) report ;;
    all) measure; report ;;
    *) die "usage: bash scripts/bench.sh [report]" ;;
  esac
}
main "$@"; exit  # (on one line: the script may be edited while it runs)
