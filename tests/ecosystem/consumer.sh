#!/usr/bin/env bash
# consumer.sh HOW PREFIX CONSUMER_SRC WORK VERSION MODEL.onnx MODEL.mcz
# Build the programs in tests/ecosystem/consumer against the mcz installed in PREFIX, as a
# user's project would, and run them. HOW:
#   cmake      find_package(mcz) with CMAKE_PREFIX_PATH=PREFIX (mcz::load, mcz::compress)
#   pkgconfig  cc with `pkg-config --cflags --libs mczload` / `mczcompress`
#   version    find_package(mcz X.Y) refuses versions the package is not compatible with
set -euo pipefail
how=$1 prefix=$2 csrc=$3 work=$4/$1 version=$5 onnx=$6 mcz=$7
fail() { echo "FAIL ($how): $*"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
[ -d "$prefix/lib" ] || fail "nothing installed in $prefix (eco.install runs first)"

# run_all LOAD COMPRESS: what the two programs must do
run_all() {
  local load=$1 compress=$2 out
  out=$("$load") || fail "$load alone exited $?"
  [[ $out == "mcz $version (header $version, container format "* ]] || fail "version line: $out"
  [[ $out == *"MCZ_ERR_CHECKSUM: checksum mismatch"* ]] || fail "mcz_strerror: $out"
  # the loader used is the installed shared library
  local used
  used=$(ldd "$load" | sed -nE 's/^\s*libmczload\.so[^ ]* => (.*) \(0x[0-9a-f]+\)$/\1/p')
  [ -n "$used" ] && [ "$used" -ef "$prefix/lib/libmczload.so" ] ||
    fail "$load does not load $prefix/lib/libmczload.so: $(ldd "$load" | grep mcz || true)"
  out=$("$load" "$mcz") || fail "$load $mcz exited $?"
  echo "$out" | tail -n 1 | grep -Eq "^$mcz: [1-9][0-9]* tensors, [1-9][0-9]* bytes, verified$" ||
    fail "reading $mcz: $out"
  # a damaged container is refused (a byte in the middle flipped)
  cp "$mcz" "$work/bad.mcz"
  local size off
  size=$(stat -c %s "$mcz")
  off=$((size / 2))
  printf "$(printf '\\%03o' $(( ($(od -An -tu1 -j "$off" -N1 "$mcz") ^ 0xff) )))" |
    dd of="$work/bad.mcz" bs=1 seek="$off" conv=notrunc status=none
  if "$load" "$work/bad.mcz" > /dev/null 2> "$work/bad.err"; then
    fail "a damaged container was read without an error"
  fi
  [ -s "$work/bad.err" ] || fail "no message for a damaged container"
  out=$("$compress" "$onnx") || fail "$compress $onnx exited $?"
  echo "$out" | grep -Eq "^$onnx: [1-9][0-9]* weights, [1-9][0-9]* bytes$" || fail "reading $onnx: $out"
}

case $how in
cmake)
  cmake -S "$csrc" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF > "$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "configure"; }
  dir=$(sed -n 's/^mcz_DIR:PATH=//p' "$work/build/CMakeCache.txt")
  [ "$dir" -ef "$prefix/lib/cmake/mcz" ] || fail "found mcz in '$dir', not in $prefix"
  cmake --build "$work/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
  run_all "$work/build/mcz-consumer-load" "$work/build/mcz-consumer-compress"
  ;;
pkgconfig)
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  for m in mczload mczcompress; do
    v=$(pkg-config --modversion "$m") || fail "pkg-config does not find $m"
    [ "$v" = "$version" ] || fail "$m is version $v, not $version"
  done
  libdir=$(pkg-config --variable=libdir mczload)
  [ "$libdir" -ef "$prefix/lib" ] || fail "mczload libdir is $libdir"
  flags=(-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Werror)
  # shellcheck disable=SC2046
  cc "${flags[@]}" "$csrc/load.c" -o "$work/load" $(pkg-config --cflags --libs mczload) \
     -Wl,-rpath,"$libdir" || fail "cc with mczload"
  # shellcheck disable=SC2046
  cc "${flags[@]}" "$csrc/compress.c" -o "$work/compress" $(pkg-config --cflags --libs mczcompress) ||
    fail "cc with mczcompress"
  run_all "$work/load" "$work/compress"
  ;;
version)
  for want in 0.1 "$version"; do
    cmake -S "$csrc" -B "$work/ok" -DCMAKE_PREFIX_PATH="$prefix" -DMCZ_WANT_VERSION="$want" \
          > "$work/ok.log" 2>&1 || { cat "$work/ok.log"; fail "find_package(mcz $want) failed"; }
    rm -rf "$work/ok"
  done
  major=${version%%.*} rest=${version#*.} minor=${rest%%.*}
  for want in "$((major + 1)).0" "$major.$((minor + 1))"; do
    if cmake -S "$csrc" -B "$work/no" -DCMAKE_PREFIX_PATH="$prefix" -DMCZ_WANT_VERSION="$want" \
             > "$work/no.log" 2>&1; then
      fail "find_package(mcz $want) accepted mcz $version"
    fi
    grep -q "version" "$work/no.log" || { cat "$work/no.log"; fail "no word about the version"; }
    rm -rf "$work/no"
  done
  ;;
*)
  fail "unknown HOW"
  ;;
esac
echo "ok: $how"
