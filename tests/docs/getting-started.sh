#!/usr/bin/env bash
# getting-started.sh ROOT BIN MODELS - docs/getting-started.md cannot drift: the commands of its
# "A first real model" block run, as written, in a scratch folder (BIN on PATH, MODELS for the
# cache it names), each must succeed, and what the comments promise holds: the sizes stated as
# "0.NNx" (the output's size / the model's, to two decimals), "the very same bytes back", and
# int4 weights from the int4 example. Nothing is left outside the scratch folder.
set -euo pipefail
root=$1 bin=$2 models=$3
doc=$root/docs/getting-started.md
work=$(mktemp -d "${TMPDIR:-/tmp}/mcz-getting-started.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# the first code block after the "A first real model" heading
awk '/^## 2\. A first real model/ { on = 1; next }
     on && /^```/ { if (inblock) exit; inblock = 1; next }
     inblock' "$doc" | sed "s#~/.cache/mcz/models#$models#g" > "$work/block.sh"
cmds=$(grep -cvE '^\s*(#|$)' "$work/block.sh")
[ "$cmds" -ge 10 ] || fail "only $cmds commands found in $doc"
mkdir "$work/run"
(cd "$work/run" && PATH=$bin:$PATH bash -euo pipefail "$work/block.sh") > "$work/log" 2>&1 ||
  { tail -20 "$work/log"; fail "a command of $doc failed (log above)"; }

m=$(sed -n 's/^m=//p' "$work/block.sh")
[ -f "$m" ] || fail "the block's model $m is not there"
checked=0
while IFS= read -r line; do
  # "... -o OUT ... # ... 0.NNx ...": OUT's size against the model's
  if [[ $line =~ -o\ ([^ ]+).*#.*\ ([0-9]+\.[0-9]+)x ]]; then
    out=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
    got=$(awk -v a="$(stat -c %s "$work/run/$out")" -v b="$(stat -c %s "$m")" \
              'BEGIN { printf "%.2f", a / b }')
    [ "$got" = "$want" ] || fail "$doc says $out is ${want}x the .onnx; it is ${got}x"
    checked=$((checked + 1))
  fi
  if [[ $line =~ -o\ ([^ ]+).*#.*the\ very\ same\ bytes ]]; then
    cmp -s "$work/run/${BASH_REMATCH[1]}" "$m" || fail "${BASH_REMATCH[1]} is not the model's bytes"
    checked=$((checked + 1))
  fi
  if [[ $line =~ --bits\ 4.*-o\ ([^ ]+) ]]; then
    n=$(PATH=$bin:$PATH mcz inspect "$work/run/${BASH_REMATCH[1]}" --tensors | grep -c ' int4 ' || true)
    [ "$n" -gt 0 ] || fail "the int4 example (${BASH_REMATCH[1]}) holds no int4 weight"
    checked=$((checked + 1))
  fi
done < "$work/block.sh"
[ "$checked" -ge 4 ] || fail "only $checked promises checked"
echo "getting-started: $cmds commands run, $checked promises hold"
