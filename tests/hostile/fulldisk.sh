#!/usr/bin/env bash
# A full disk gives a clear error and a non-zero exit, and never a partial output:
#  1. -o /dev/full (a character device: written in place) for mcz-pack, mcz-unpack,
#     mcz-quantize and mcz-prune, from ONNX and from .mcz inputs;
#  2. -o - with standard output sent to /dev/full;
#  3. a 256 KiB tmpfs (the model written is 4 MiB, 1 MiB once quantized) (needs root and mount; when the mount fails that part is skipped with the
#     reason printed, parts 1-2 still run): each tool writing a model larger than the space
#     fails, leaves an existing output (-f) byte-identical, and leaves no temporary file.
# usage: fulldisk.sh BIN_DIR WORK_DIR
set -uo pipefail
bin=$1 work=$2
mkdir -p "$work"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

"$bin/mcz-sample" mlp --size 64K -q -f -o "$work/m.onnx" || exit 1
"$bin/mcz-pack" "$work/m.onnx" -q -f -o "$work/m.mcz" || exit 1
"$bin/mcz-sample" mlp --size 4M -q -f -o "$work/big.onnx" || exit 1
"$bin/mcz-pack" "$work/big.onnx" -q -f --level 1 -o "$work/big.mcz" || exit 1

# expect_full DESCRIPTION COMMAND...: non-zero exit and an error naming the lack of space
expect_full() {
  local what=$1; shift
  local errf=$work/err.txt rc=0
  "$@" 2> "$errf" > /dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then
    fail "$what: exit status 0 on a full disk"
  elif [ "$rc" -ge 128 ]; then
    fail "$what: killed by a signal (exit $rc)"
  elif ! grep -q "No space left on device" "$errf"; then
    fail "$what: unclear error: $(head -c 300 "$errf")"
  else
    echo "ok: $what -> exit $rc: $(head -1 "$errf")"
  fi
}

for src in m.onnx m.mcz; do
  expect_full "mcz-quantize $src -o /dev/full" "$bin/mcz-quantize" "$work/$src" -o /dev/full
  expect_full "mcz-prune $src -o /dev/full" "$bin/mcz-prune" "$work/$src" --sparsity 0.5 -o /dev/full
done
expect_full "mcz-pack -o /dev/full" "$bin/mcz-pack" "$work/m.onnx" -o /dev/full
expect_full "mcz-unpack -o /dev/full" "$bin/mcz-unpack" "$work/m.mcz" -o /dev/full
expect_full "mcz-pack -o - >/dev/full" sh -c '"$1" "$2" -o - > /dev/full' sh "$bin/mcz-pack" "$work/m.onnx"
expect_full "mcz-unpack -o - >/dev/full" sh -c '"$1" "$2" -o - > /dev/full' sh "$bin/mcz-unpack" "$work/m.mcz"

mnt=$work/tmpfs
mkdir -p "$mnt"
mountpoint -q "$mnt" && umount "$mnt"
if mount -t tmpfs -o size=256k tmpfs "$mnt" 2> "$work/mount.err"; then
  trap 'umount "$mnt" 2>/dev/null' EXIT
  # name out-extension tool args...
  while read -r tool src out args; do
    dst=$mnt/$out
    printf 'old output\n' > "$dst"
    before=$(sha256sum < "$dst")
    # shellcheck disable=SC2086
    expect_full "$tool $src -o tmpfs/$out (256 KiB)" "$bin/$tool" "$work/$src" $args -f -o "$dst"
    [ "$(sha256sum < "$dst")" = "$before" ] || fail "$tool: existing $out changed after the failure"
    left=$(ls -A "$mnt" | grep -v "^$out\$" || true)
    [ -z "$left" ] || fail "$tool: left behind in the tmpfs: $left"
    # and with no existing output: nothing at all is left
    rm -f "$dst"
    # shellcheck disable=SC2086
    "$bin/$tool" "$work/$src" $args -o "$dst" 2>/dev/null && fail "$tool: succeeded on a full tmpfs"
    [ -z "$(ls -A "$mnt")" ] || fail "$tool: left behind: $(ls -A "$mnt")"
  done <<'LIST'
mcz-pack big.onnx x.mcz --level 1
mcz-unpack big.mcz x.onnx
mcz-quantize big.onnx x.onnx
mcz-quantize big.mcz x.mcz
mcz-prune big.onnx x.onnx --sparsity 0.5
mcz-prune big.mcz x.mcz --sparsity 0.5
LIST
else
  echo "skipped the tmpfs part: mount failed: $(cat "$work/mount.err") (the /dev/full part ran)"
fi
[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "fulldisk: all checks passed"
