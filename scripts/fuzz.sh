#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (clang, ASan + UBSan) for SECONDS each, starting from
# the checked-in corpus; new inputs go to a work folder outside the repository
# ($MCZ_CACHE/fuzz). usage: SECONDS=N scripts/fuzz.sh   (make fuzz SECONDS=N)
# FUZZ_TARGETS="mcz roundtrip" runs only those; MCZ_FUZZ_BUILD=DIR builds there (default build-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${SECONDS_PER_TARGET:-${FUZZ_SECONDS:-60}}
cache=${MCZ_CACHE:-$HOME/.cache/mcz}
build=${MCZ_FUZZ_BUILD:-$root/build-fuzz}
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
CC=clang cmake -S "$root" -B "$build" -DMCZ_LIBFUZZER=ON -DMCZ_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=${FUZZ_TARGETS:-$(sed -n 's/^set(MCZ_FUZZ_TARGETS \(.*\))/\1/p' "$root/tests/fuzz/CMakeLists.txt")}
for t in $targets; do
  cmake --build "$build" --target "fuzz-$t" -j2 >/dev/null
  work=$cache/fuzz/$t
  mkdir -p "$work"
  echo "== fuzz-$t for ${secs}s (corpus: tests/fuzz/corpus/$t + $work)"
  # the whole log (crash stacks included) goes to $cache/fuzz/$t.log; crash inputs to
  # $cache/fuzz/$t-crash-* (replay one with build-fuzz/tests/bin/fuzz-$t FILE). A crash in one
  # target does not stop the others; the exit status says whether any crashed.
  ASAN_OPTIONS=detect_leaks=1 "$build/tests/bin/fuzz-$t" -max_total_time="$secs" -rss_limit_mb=4096 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$cache/fuzz/$t-" \
    "$work" "$root/tests/fuzz/corpus/$t" > "$cache/fuzz/$t.log" 2>&1 || failed="${failed:-} $t"
  tail -15 "$cache/fuzz/$t.log"
done
if [ -n "${failed:-}" ]; then
  echo "fuzz: crashes or sanitizer reports in:$failed (see $cache/fuzz/*.log)" >&2
  exit 1
fi
