#!/bin/sh
# loader-size.sh LIBMCZLOAD.so SRCDIR - issue 3's "tiny" loader, kept: the shared library under
# 64 KiB stripped (zstd not counted) and its C source under 1,500 lines of code (non-blank lines
# that are not only a comment, the way cloc counts "code"); the physical line count is printed.
set -eu
lib=$1 src=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$lib"
size=$(stat -c %s "$tmp")
files=$(ls "$src"/*.c "$src"/*.h "$src"/include/mcz/*.h)
physical=$(cat $files | wc -l)
code=$(cat $files | grep -v '^[[:space:]]*$' | grep -cv '^[[:space:]]*\(/\*\|\*\|//\)')
echo "libmczload: $size bytes stripped; source $code lines of code ($physical physical)"
[ "$size" -lt 65536 ] || { echo "FAIL: over 64 KiB" >&2; exit 1; }
[ "$code" -lt 1500 ] || { echo "FAIL: 1,500 lines of code or more" >&2; exit 1; }
