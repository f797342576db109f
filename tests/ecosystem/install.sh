#!/usr/bin/env bash
# install.sh BUILD_DIR SOURCE_DIR PREFIX TOOL...: `cmake --install BUILD_DIR --prefix PREFIX`
# into an empty PREFIX, then check what landed where (cmake/install.cmake): the tools and
# nothing else in bin/, a man page per tool, the libraries, the public headers and no internal
# one, the CMake package and the pkg-config files; the shared loader exports mcz_* only.
set -euo pipefail
build=$1 src=$2 prefix=$3
shift 3
tools=("$@")
errors=0
bad() { echo "FAIL: $*"; errors=$((errors + 1)); }
have() { [ -e "$prefix/$1" ] || bad "not installed: $1"; }

rm -rf "$prefix"
mkdir -p "$(dirname "$prefix")"
cmake --install "$build" --prefix "$prefix" > "$prefix.log" 2>&1 || { cat "$prefix.log"; exit 1; }

for t in "${tools[@]}"; do
  [ -x "$prefix/bin/$t" ] || bad "not installed: bin/$t"
  have "share/man/man1/$t.1"
done
for f in "$prefix"/bin/*; do
  n=$(basename "$f")
  printf '%s\n' "${tools[@]}" | grep -qx "$n" || bad "bin/$n is installed but is not a tool"
done
for f in lib/libmczload.so lib/libmcz_load.a lib/libmcz_compress.a lib/libmcz_onnxpb.a \
         lib/cmake/mcz/mczConfig.cmake lib/cmake/mcz/mczConfigVersion.cmake \
         lib/cmake/mcz/mczTargets.cmake lib/pkgconfig/mczload.pc lib/pkgconfig/mczcompress.pc \
         include/mcz/load.h; do
  have "$f"
done
for h in "$src"/libcompress/include/mcz/*.h; do
  have "include/mcz/$(basename "$h")"
done
for h in "$prefix"/include/mcz/*.h; do
  n=$(basename "$h")
  [ -e "$src/libcompress/include/mcz/$n" ] || [ "$n" = load.h ] || bad "include/mcz/$n is not a public header"
done
[ -z "$(find "$prefix/include" -mindepth 1 -not -path "$prefix/include/mcz*")" ] ||
  bad "files in include/ outside include/mcz/"

# the shared loader: versioned, and only the API (MCZ_API) exported
so=$prefix/lib/libmczload.so
if [ -e "$so" ]; then
  soname=$(readelf -d "$so" | sed -nE 's/.*Library soname: \[(.*)\].*/\1/p')
  [ -n "$soname" ] && [ -e "$prefix/lib/$soname" ] || bad "libmczload.so: soname '$soname' not installed"
  others=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -v '^mcz_' || true)
  [ -z "$others" ] || bad "libmczload.so exports symbols outside the API: $(echo $others)"
  nm -D --defined-only "$so" | grep -q ' mcz_open$' || bad "libmczload.so does not export mcz_open"
fi
# nothing installed refers to the build or source tree
if grep -rlF -e "$build" -e "$src/" "$prefix/lib/cmake" "$prefix/lib/pkgconfig" 2>/dev/null; then
  bad "the files above name the build or source tree: the package would not be relocatable"
fi
[ "$errors" -eq 0 ] || exit 1
echo "ok: installed $(find "$prefix" -type f | wc -l) files into $prefix"
