#!/usr/bin/env bash
# check.sh BIN_DIR WORK_DIR MODELS_DIR: every tool's output bytes equal the recorded ones
# (expected.sha256 beside this script). A change that means to alter an output records the new
# hashes with `bash tests/golden/check.sh BIN WORK MODELS --update` and says why in its commit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$1 W=$2 M=$3 mode=${4:-}
rm -rf "$W"
bash "$here/outputs.sh" "$B" "$W" "$M" > "$W.sha256"
if [[ $mode == --update ]]; then
    cp "$W.sha256" "$here/expected.sha256"
    echo "check.sh: recorded $(wc -l < "$here/expected.sha256") hashes"
    exit 0
fi
if ! diff -u "$here/expected.sha256" "$W.sha256" > "$W.diff"; then
    echo "FAIL: outputs differ from tests/golden/expected.sha256:"
    grep '^[-+][0-9a-f]' "$W.diff" | head -40
    exit 1
fi
echo "check.sh: $(wc -l < "$W.sha256") outputs byte-identical to the recorded ones"
rm -rf "$W"
