#!/usr/bin/env bash
# Outputs are not overwritten without -f: every writing tool, given an existing output and no
# -f, exits non-zero with an error that says so, and leaves the file byte-identical (and no
# temporary file beside it). With -f the same command replaces it.
# usage: noforce.sh BIN_DIR WORK_DIR
set -uo pipefail
bin=$1 work=$2
rm -rf "$work"
mkdir -p "$work/out"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
"$bin/mcz-sample" mlp --size 16K -q -f -o "$work/m.onnx" || exit 1
"$bin/mcz-pack" "$work/m.onnx" -q -f -o "$work/m.mcz" || exit 1
while read -r tool src out args; do
  dst=$work/out/$out
  printf 'precious\n' > "$dst"
  before=$(sha256sum < "$dst")
  rc=0
  # shellcheck disable=SC2086
  "$bin/$tool" "$work/$src" $args -o "$dst" > /dev/null 2> "$work/err.txt" || rc=$?
  [ "$rc" -ne 0 ] || fail "$tool -o $out: exit 0 over an existing output without -f"
  [ "$rc" -lt 128 ] || fail "$tool: killed by a signal"
  grep -q "exists" "$work/err.txt" || fail "$tool: error does not say the output exists: $(cat "$work/err.txt")"
  [ "$(sha256sum < "$dst")" = "$before" ] || fail "$tool: existing $out changed without -f"
  [ "$(ls -A "$work/out")" = "$out" ] || fail "$tool: left behind: $(ls -A "$work/out")"
  # shellcheck disable=SC2086
  "$bin/$tool" "$work/$src" $args -q -f -o "$dst" || fail "$tool -f: failed"
  [ "$(sha256sum < "$dst")" != "$before" ] || fail "$tool -f: output not replaced"
  echo "ok: $tool -o $out refused without -f ($(head -1 "$work/err.txt")), replaced with -f"
  rm -f "$dst"
done <<'LIST'
mcz-pack m.onnx x.mcz
mcz-unpack m.mcz x.onnx
mcz-quantize m.onnx x.onnx
mcz-quantize m.mcz x.mcz
mcz-prune m.onnx x.mcz --sparsity 0.5
LIST
[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "noforce: all checks passed"
