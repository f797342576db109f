#!/usr/bin/env bash
# truth.sh ROOT BUILD - `make demo` tells the truth. The tour runs with its files kept; then
# every command line it shows is run again, from the same folder, on fresh copies of its
# files, and must print exactly what the tour printed under it (times and rates masked). The
# byte sizes the tour states are the files' sizes, and "(first N outputs)" follows N lines.
set -euo pipefail
root=$1 build=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/mcz-demo-truth.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$root"
MCZ_BUILD=$build MCZ_DEMO_DIR=$work/tour bash scripts/demo.sh > "$work/out" 2>&1 ||
  { cat "$work/out"; fail "the demo exited $?"; }
mkdir "$work/again"

# The output in blocks: a shown command ("$ ...") and the lines under it, up to the next
# command, step heading ("== ") or narration (three spaces, then text: the tour's own words).
awk -v dir="$work/blocks" '
  BEGIN { n = 0; system("mkdir -p " dir) }
  /^\$ / { n++; cmd = dir "/" n ".cmd"; out = dir "/" n ".out"; print substr($0, 3) > cmd;
           close(cmd); printf "" > out; inblock = 1; next }
  /^== / || /^   [^ ]/ { inblock = 0; next }
  inblock { print > out }
' "$work/out"
n=$(find "$work/blocks" -name "*.cmd" | wc -l)
[ "$n" -ge 8 ] || fail "only $n commands found in the demo's output"

# masked: the folder, times and rates; trailing blank lines (the step headings' spacing) dropped
mask() {
  sed -E "s#$1#DIR#g; s/[0-9]+(\.[0-9]+)? s\b/T s/g; s/[0-9]+(\.[0-9]+)? MB\/s/R MB\/s/g" |
    sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'
}
for i in $(seq 1 "$n"); do
  cmd=$(sed "s#$work/tour#$work/again#g" "$work/blocks/$i.cmd")
  bash -c "$cmd" > "$work/blocks/$i.again" 2>&1 || fail "run again, exits $?: $cmd"
  if ! diff <(mask "$work/tour" < "$work/blocks/$i.out") \
            <(mask "$work/again" < "$work/blocks/$i.again") > "$work/diff"; then
    cat "$work/diff" >&2
    fail "the demo shows other output than the command prints: $(cat "$work/blocks/$i.cmd")"
  fi
done

# stated sizes: "   wrote FILE (N bytes)" and "   LABEL NAME.onnx|NAME.mcz  N bytes"
checked=0
while IFS= read -r line; do
  if [[ $line =~ ^\ \ \ wrote\ ([^ ]+)\ \(([0-9]+)\ bytes\)$ ]]; then
    f=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
  elif [[ $line =~ ^\ \ \ .*\ ([^ ]+\.(onnx|mcz))\ +([0-9]+)\ bytes$ ]]; then
    f=$work/tour/${BASH_REMATCH[1]} want=${BASH_REMATCH[3]}
  else
    continue
  fi
  [ "$(stat -c %s "$f")" = "$want" ] || fail "the demo says $f has $want bytes: $(stat -c %s "$f")"
  checked=$((checked + 1))
done < "$work/out"
[ "$checked" -ge 4 ] || fail "only $checked stated sizes found"

# "(first N outputs)" right after a block of N lines
prev=0
while IFS= read -r line; do
  if [[ $line =~ ^\ \ \ \(first\ ([0-9]+)\ outputs\)$ ]]; then
    [ "$prev" = "${BASH_REMATCH[1]}" ] || fail "'$line' follows $prev output lines"
  elif [[ $line =~ ^\$\  ]]; then
    prev=0
  else
    prev=$((prev + 1))
  fi
done < "$work/out"
echo "demo: $n commands shown, each prints what the demo shows; $checked sizes as stated"
