#!/bin/sh
# loader-size.sh LIBMCZLOAD.so SRCDIR - the loader's real limits: the shared library under
# 64 KiB stripped (zstd not counted), and it needs nothing but zstd, libc and pthreads.
set -eu
lib=$1 src=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$lib"
size=$(stat -c %s "$tmp")
files=$(ls "$src"/*.c "$src"/*.h "$src"/shared/*.h "$src"/include/mcz/*.h)
physical=$(cat $files | wc -l)
echo "libmczload: $size bytes stripped; source $physical lines"
[ "$size" -lt 65536 ] || { echo "FAIL: over 64 KiB" >&2; exit 1; }
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "needs: $(echo $needed)"
for n in $needed; do
    case $n in
    libzstd.so.*|libc.so.*|libpthread.so.*|ld-linux*) ;;
    *) echo "FAIL: the loader links $n (zstd, libc and pthreads only)" >&2; exit 1 ;;
    esac
done
