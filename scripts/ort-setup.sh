#!/usr/bin/env bash
# Install ONNX Runtime for Node (the test harness's reference runtime) into a cache outside the
# repository: ${MCZ_CACHE:-$HOME/.cache/mcz}/ort. Skips when that version is already there.
# ONNXRUNTIME_NODE_INSTALL=skip: the CPU library for Linux x64 ships inside the npm package,
# so the install script must not try to download anything else.
set -euo pipefail

version=1.30.0
cache=${MCZ_CACHE:-$HOME/.cache/mcz}
dir=$cache/ort
pkg=$dir/node_modules/onnxruntime-node

have=$(node -p 'try { require(process.argv[1] + "/package.json").version } catch (e) { "" }' "$pkg" 2>/dev/null || true)
if [[ $have != "$version" ]]; then
    echo "ort-setup.sh: installing onnxruntime-node@$version into $dir"
    mkdir -p "$dir"
    [[ -f $dir/package.json ]] || echo '{"name":"mcz-ort-cache","private":true}' >"$dir/package.json"
    ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$dir" --no-audit --no-fund \
        --no-save --loglevel=error "onnxruntime-node@$version" </dev/null
fi
# Loading it proves the native binding matches this machine and this node.
node -e 'process.exit(require(process.argv[1]).InferenceSession ? 0 : 1)' "$pkg" || {
    echo "ort-setup.sh: $pkg does not load" >&2; exit 1; }
echo "onnxruntime-node@$version: $pkg"
