#!/usr/bin/env bash
# headers.sh PREFIX: every installed header compiles on its own, as the first include of a C11
# file with the project's warnings as errors, and as C++ (extern "C"), against the installed
# include folder only.
set -euo pipefail
prefix=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for h in "$prefix"/include/mcz/*.h; do
  name=mcz/$(basename "$h")
  printf '#include <%s>\nint mcz_header_check_%d;\n' "$name" "$n" > "$work/t.c"
  cc -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Werror -fsyntax-only \
     -I"$prefix/include" "$work/t.c" ||
    { echo "FAIL: <$name> does not compile on its own as C11"; exit 1; }
  if command -v c++ > /dev/null 2>&1; then
    cp "$work/t.c" "$work/t.cc"
    c++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$work/t.cc" ||
      { echo "FAIL: <$name> does not compile as C++"; exit 1; }
  fi
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no header in $prefix/include/mcz"; exit 1; }
echo "ok: $n headers"
