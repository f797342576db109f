#!/usr/bin/env bash
# chromium.sh PAGE.html OUT.png: render PAGE in headless Debian Chromium (scripts/deps.sh test
# installs it with the other test-only packages). Writes OUT.png (a
# 1280x2000 screenshot), OUT.png.dom (the DOM after load, --dump-dom) and OUT.png.log
# (Chromium's stderr with --enable-logging: console messages are its "CONSOLE(" lines).
# Exit 0 when both runs succeed; checking what they produced is the caller's job.
set -euo pipefail
page=$1 out=$2
[ -f "$page" ] || { echo "chromium.sh: no page $page" >&2; exit 1; }
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium.sh: no chromium: 'bash scripts/deps.sh test' installs it (make test does)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(realpath "$page")"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --enable-logging=stderr --v=0 --window-size=1280,2000)
rm -f "$out" "$out.dom" "$out.log"
timeout 120 chromium "${flags[@]}" --screenshot="$(realpath -m "$out")" "$url" \
  > /dev/null 2> "$out.log"
timeout 120 chromium "${flags[@]}" --dump-dom "$url" > "$out.dom" 2>> "$out.log"
