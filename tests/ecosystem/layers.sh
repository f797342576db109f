#!/bin/sh
# layers.sh SRCDIR - the one layering rule, checked on the source: libcompress and the tools
# reach the container through the loader's public API (formats/mcz/include) and the layout
# both sides share (formats/mcz/shared), never the loader's private files. The compiler
# enforces it too (libcompress's include path lacks formats/mcz); this catches a relative path.
set -eu
src=$1
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*"([^"]*/)?(loader_impl\.h|formats/mcz/[a-z_]+\.[ch])"' \
      "$src/libcompress" "$src/tools" || true)
if [ -n "$bad" ]; then
    echo "FAIL: a loader-private header included outside the loader:" >&2
    echo "$bad" >&2
    exit 1
fi
# the shared headers stay free of loader internals
if grep -nE '#[[:space:]]*include[[:space:]]*"loader_impl\.h"' "$src"/formats/mcz/shared/*.h; then
    echo "FAIL: formats/mcz/shared includes the loader's private header" >&2
    exit 1
fi
echo "layers: libcompress and tools use only formats/mcz/include and formats/mcz/shared"
