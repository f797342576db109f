#!/usr/bin/env bash
# SIGKILL mid-write: mcz-pack of a large generated model (mcz-sample transformer, 512M by
# default) onto an existing output, killed with SIGKILL while it writes. The old output must be
# intact (same checksum, still verifies) and nothing partial may sit under the output's name.
# The temporary file (OUT.mcz-tmpXXXXXX beside it) cannot be removed by a process killed with
# SIGKILL; it is checked to be a different name, then deleted here.
# usage: sigkill.sh BIN_DIR WORK_DIR [SIZE]
set -euo pipefail
bin=$1 work=$2 size=${3:-512M}
mkdir -p "$work"
big=$work/big-$size.onnx out=$work/out.mcz
if [ ! -s "$big" ]; then
  "$bin/mcz-sample" transformer --size "$size" -q -f -o "$big"
fi
rm -f "$out" "$out".mcz-tmp*
"$bin/mcz-sample" mlp --size 4K -q -f -o "$work/small.onnx"
"$bin/mcz-pack" "$work/small.onnx" -q -o "$out"
before=$(sha256sum < "$out")

"$bin/mcz-pack" "$big" -q -f -j 1 -o "$out" &
pid=$!
# wait until the temporary file holds some data (the writer is mid-way), at most 120 s
for _ in $(seq 1 1200); do
  tmpf=$(ls "$out".mcz-tmp* 2>/dev/null | head -1 || true)
  if [ -n "$tmpf" ] && [ "$(stat -c %s "$tmpf" 2>/dev/null || echo 0)" -gt 1048576 ]; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: mcz-pack finished before it could be killed (no mid-write point)" >&2
  exit 1
fi
kill -9 "$pid"
rc=0
wait "$pid" || rc=$?
if [ "$rc" -ne 137 ]; then
  echo "FAIL: mcz-pack exit status $rc, expected 137 (SIGKILL)" >&2
  exit 1
fi
after=$(sha256sum < "$out")
if [ "$before" != "$after" ]; then
  echo "FAIL: the old output changed after SIGKILL" >&2
  exit 1
fi
"$bin/mcz-inspect" "$out" --verify -q >/dev/null || { echo "FAIL: old output does not verify" >&2; exit 1; }
left=$(ls "$out".mcz-tmp* 2>/dev/null || true)
for f in $(ls -d "$work"/* ); do
  case "$f" in
    "$out"|"$big"|"$work/small.onnx") ;;
    "$out".mcz-tmp*) ;;
    *) echo "FAIL: unexpected file $f" >&2; exit 1 ;;
  esac
done
echo "ok: old output intact (sha256 ${after%% *}); leftover temporary: ${left:-none}"
rm -f "$out".mcz-tmp* "$big" # the big model is regenerated in seconds: do not keep 0.5 GB
