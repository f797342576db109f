#!/usr/bin/env bash
# check.sh MCZ-INSPECT INPUT WORKDIR NAME [PATTERN...]: mcz-inspect INPUT --html WORKDIR/NAME.html,
# then check the page:
#   - self-contained: no "http", no src=, no url(, no @import, no <link, no <script, and
#     every href= points inside the page (#...);
#   - every PATTERN (grep -E) occurs in it;
#   - headless Chromium (chromium.sh) renders it: the screenshot is a PNG, the DOM after load
#     holds the weight table with one row per weight (as the summary counts them), the
#     partitions table (when there is one) with one row per part (as id=part-count says), and the
#     console logged nothing (the page has no script: any console line is an error, e.g. a
#     blocked resource).
set -euo pipefail
inspect=$1 input=$2 dir=$3 name=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL ($name): $*"; exit 1; }
mkdir -p "$dir"
page=$dir/$name.html png=$dir/$name.png
"$inspect" "$input" --html "$page" -f || fail "mcz-inspect --html exited $?"
[ -s "$page" ] || fail "no page written"
for bad in 'http' 'src=' 'url\(' '@import' '<link' '<script' '<iframe' '<object'; do
  if grep -Eiq "$bad" "$page"; then fail "page contains $bad: $(grep -Eio ".{0,40}$bad.{0,40}" "$page" | head -1)"; fi
done
if grep -Eio 'href=[^ >]*' "$page" | grep -Ev '^href="?#' | grep -q .; then
  fail "href to a target outside the page: $(grep -Eio 'href=[^ >]*' "$page" | grep -Ev '^href="?#' | head -1)"
fi
for pat in "$@"; do grep -Eq -- "$pat" "$page" || fail "page lacks /$pat/"; done

"$here/chromium.sh" "$page" "$png" || fail "chromium failed (see $png.log)"
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is not a PNG"
[ "$(stat -c %s "$png")" -gt 10000 ] || fail "$png is suspiciously small"
grep -q 'id="weight-table"' "$png.dom" || fail "the DOM has no weight table"
weights=$(grep -o 'id="weight-count">[0-9]*' "$png.dom" | grep -o '[0-9]*$') || fail "no weight count in the DOM"
rows=$(awk '/id="weight-table"/,/<\/table>/' "$png.dom" | grep -o '<tr>' | wc -l)
[ "$rows" -eq $((weights + 1)) ] || fail "the weight table has $rows rows for $weights weights (+1 header)"
if grep -q 'id="part-table"' "$png.dom"; then
  parts=$(grep -o 'id="part-count">[0-9]*' "$png.dom" | grep -o '[0-9]*$') || fail "a part table but no part count"
  prows=$(awk '/id="part-table"/,/<\/table>/' "$png.dom" | grep -o '<tr>' | wc -l)
  [ "$prows" -eq $((parts + 1)) ] || fail "the part table has $prows rows for $parts parts (+1 header)"
fi
if grep -E 'CONSOLE[:(]' "$png.log"; then fail "the console logged the lines above"; fi
echo "ok: $name: $weights weights, $(stat -c %s "$page") bytes of HTML, screenshot $png"
