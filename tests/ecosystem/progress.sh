#!/usr/bin/env bash
# progress.sh CASE WORKDIR PROGRAM [ARGS...]: terminal behaviour of the progress reporter
# (tools/progress.h), with tests/ecosystem/progress-drive or with a real tool as PROGRAM.
# Each case checks one behaviour; see tests/ecosystem/CMakeLists.txt for the list.
set -euo pipefail
case=$1 work=$2/$1 prog=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
command -v script >/dev/null 2>&1 ||
  { echo "progress.sh: 'script' is needed to run a program on a terminal (Debian: bsdutils)"; exit 1; }

fail() { echo "FAIL ($case): $*"; echo "--- terminal/stderr (cat -A):"; cat -A "$work/raw" 2>/dev/null | head -40; exit 1; }

# on_tty STDOUT CMD...: run CMD on a new pseudo-terminal (stdin, stderr; stdout goes to the
# file STDOUT unless it is "-"). What the terminal showed is kept in $work/raw; $work/lines has
# it split into the pieces a user saw (on CR and LF); $work/crs counts redraws (lone CRs).
on_tty() {
  local out=$1 cmd
  shift
  printf -v cmd '%q ' "$@"
  [ "$out" = - ] || cmd="$cmd >$(printf %q "$out")"
  SHELL=/bin/bash script -qec "$cmd" /dev/null </dev/null > "$work/raw"
  local rc=$?
  # the terminal turns LF into CR LF: undo that first, so what remains are redraws
  sed 's/\r$//' "$work/raw" > "$work/nl"
  tr -cd '\r' < "$work/nl" | wc -c > "$work/crs"
  tr '\r' '\n' < "$work/nl" | sed '/^ *$/d' > "$work/lines"
  return $rc
}
now() { date +%s.%N; }

bar_re='^drive \[[=> ]+\] +[0-9]+/40 tensors +[0-9.]+/40\.0 MiB +[0-9.]+ MiB/s  ETA ([0-9]+:[0-9][0-9]|--:--) *$'
final_re='^drive \[=+\] +40/40 tensors +40\.0 MiB +[0-9.]+ MiB/s  in [0-9.]+ s *$'

case $case in
tty) # a bar that is redrawn in place, with counts, MiB/s and ETA, and a final state
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" --items 40 --bytes 41943040 --threads 4 --us 50000
  [ "$(cat "$work/out")" = "items=40 bytes=41943040" ] || fail "stdout: $(cat "$work/out")"
  [ "$(cat "$work/crs")" -ge 2 ] || fail "the bar was not redrawn in place (no lone CR)"
  grep -Eq "$bar_re" "$work/lines" || fail "no bar like: $bar_re"
  last=$(tail -n 1 "$work/nl" | tr '\r' '\n' | sed '/^ *$/d' | tail -n 1)
  [[ $last =~ $final_re ]] || fail "last line '$last' is not the final state ($final_re)"
  ;;
rate) # redrawn at most 10 times a second (and more than once on a 2 s run)
  t0=$(now)
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" --items 200 --bytes 41943040 --threads 4 --us 40000
  t1=$(now)
  n=$(cat "$work/crs")
  max=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 10 + 2 }')
  echo "redraws: $n in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (at most $max)"
  [ "$n" -le "$max" ] || fail "$n redraws: more than 10 a second"
  [ "$n" -ge 5 ] || fail "only $n redraws in 2 s"
  ;;
delay) # nothing for work shorter than the delay (default 1 s); the bar once it is longer
  on_tty "$work/out" env -u MCZ_PROGRESS_DELAY "$prog" --items 10 --threads 1 --us 30000
  [ ! -s "$work/raw" ] || fail "0.3 s of work drew something"
  on_tty "$work/out" env -u MCZ_PROGRESS_DELAY "$prog" --items 40 --threads 1 --us 50000
  grep -Eq "$final_re" "$work/lines" || fail "2 s of work showed no progress"
  ;;
pipe) # stderr not a terminal, work under 5 s: nothing at all
  env MCZ_PROGRESS_DELAY=0 "$prog" --items 40 --threads 2 --us 50000 > "$work/out" 2> "$work/raw"
  [ "$(cat "$work/out")" = "items=40 bytes=41943040" ] || fail "stdout: $(cat "$work/out")"
  [ ! -s "$work/raw" ] || fail "progress written to a pipe"
  ;;
log) # stderr not a terminal, work over 5 s: plain lines at most every 5 s, then a closing one
  t0=$(now)
  env MCZ_PROGRESS_DELAY=0 "$prog" --items 60 --bytes 62914560 --threads 2 --us 200000 2>&1 > "$work/out" | cat > "$work/raw"
  t1=$(now)
  ! grep -q $'\r' "$work/raw" || fail "carriage returns in a log"
  n=$(grep -Ec '^drive: [0-9]+/60 tensors, [0-9.]+/60\.0 MiB, [0-9.]+ MiB/s, ETA ([0-9]+:[0-9][0-9]|--:--)$' "$work/raw" || true)
  max=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) / 5 }')
  [ "$n" -ge 1 ] && [ "$n" -le "$max" ] || fail "$n progress lines in $max x 5 s"
  tail -n 1 "$work/raw" | grep -Eq '^drive: done: 60/60 tensors, 60\.0 MiB, [0-9.]+ MiB/s, in [0-9.]+ s$' ||
    fail "no closing line"
  [ "$(wc -l < "$work/raw")" -eq $((n + 1)) ] || fail "other lines in the log"
  ;;
quiet) # -q: silent even on a terminal
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" -q --items 40 --threads 4 --us 50000
  [ ! -s "$work/raw" ] || fail "-q printed on the terminal"
  ;;
off) # MCZ_PROGRESS_DELAY=off: silent
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=off "$prog" --items 40 --threads 4 --us 50000
  [ ! -s "$work/raw" ] || fail "MCZ_PROGRESS_DELAY=off printed on the terminal"
  ;;
threads) # 8 threads adding at once lose no count
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" --items 8000 --bytes 32768007 --threads 8 --us 200
  [ "$(cat "$work/out")" = "items=8000 bytes=32768007" ] || fail "counted $(cat "$work/out")"
  grep -Eq '^drive \[=+\] +8000/8000 tensors +31\.3 MiB +[0-9.]+ MiB/s  in [0-9.]+ s *$' "$work/lines" ||
    fail "final state not 8000/8000"
  ;;
message) # a message during the work gets a line of its own; the bar comes back after it
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" --items 40 --threads 2 --us 50000 --message-at 20
  grep -qx 'halfway: item 20' "$work/lines" || fail "the message is not on a line of its own"
  sed -n '/^halfway: item 20$/,$p' "$work/lines" | grep -Eq "$bar_re|$final_re" ||
    fail "no bar after the message"
  ;;
narrow) # a 40-column terminal: the line is cut, never wrapped
  on_tty - bash -c 'stty cols 40 && MCZ_PROGRESS_DELAY=0 exec "$0" --items 40 --threads 4 --us 50000 >/dev/null' "$prog"
  long=$(awk 'length($0) > 39' "$work/lines")
  [ -z "$long" ] || fail "lines wider than 39 columns: $long"
  grep -q 'tensors' "$work/lines" || fail "no progress shown"
  ;;
unit) # the items can be named
  on_tty "$work/out" env MCZ_PROGRESS_DELAY=0 "$prog" --items 40 --threads 4 --us 30000 --unit blocks
  grep -Eq '40/40 blocks' "$work/lines" || fail "unit not shown"
  ;;
# ---- a real tool: PROGRAM is the tool, ARGS its arguments (without -q) ----------------
tool-tty) # a tool shows progress on a terminal
  on_tty /dev/null env MCZ_PROGRESS_DELAY=0 "$prog" "$@"
  [ "$(cat "$work/crs")" -ge 1 ] || fail "$(basename "$prog") drew no progress bar on a terminal"
  grep -Eq '[0-9]+/[0-9]+ [a-z]+ .*(ETA|in [0-9.]+ s)' "$work/lines" || fail "no progress figures"
  ;;
tool-pipe) # ... and none into a pipe (its work takes less than 5 s)
  env MCZ_PROGRESS_DELAY=0 "$prog" "$@" 2>&1 >/dev/null | cat > "$work/raw"
  ! grep -q $'\r' "$work/raw" || fail "carriage returns in a pipe"
  ! grep -Eq '[0-9]+/[0-9]+ [a-z]+, .*(ETA|MiB/s)' "$work/raw" || fail "progress lines in a pipe"
  ;;
tool-quiet) # ... and -q is silent, on a terminal too
  on_tty - env MCZ_PROGRESS_DELAY=0 "$prog" "$@" -q
  [ ! -s "$work/raw" ] || fail "$(basename "$prog") -q printed something"
  ;;
*)
  echo "progress.sh: unknown case $case"
  exit 2
  ;;
esac
echo "ok: $case"
