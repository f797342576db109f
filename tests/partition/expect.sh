#!/bin/sh
# expect.sh STATUS PATTERN [PATTERN...] -- COMMAND [ARGS...]
# Run COMMAND; pass when it exits with STATUS and its output (stdout and stderr together)
# matches every extended regular expression PATTERN (grep -E, line by line). A PATTERN
# starting with '!' must match no line. Prints the output either way.
want=$1
shift
pats=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  pats="$pats
$1"
  shift
done
[ "$1" = "--" ] || { echo "expect.sh: no -- before the command" >&2; exit 2; }
shift
out=$("$@" 2>&1)
got=$?
printf '%s\n' "$out"
fail=0
if [ "$got" -ne "$want" ]; then
  echo "expect.sh: exit status $got, expected $want" >&2
  fail=1
fi
old_ifs=$IFS
IFS='
'
for p in $pats; do
  case $p in
    !*) if printf '%s\n' "$out" | grep -qE -- "${p#!}"; then
          echo "expect.sh: output matches /${p#!}/, it should not" >&2
          fail=1
        fi ;;
    *) if ! printf '%s\n' "$out" | grep -qE -- "$p"; then
         echo "expect.sh: output does not match /$p/" >&2
         fail=1
       fi ;;
  esac
done
IFS=$old_ifs
exit $fail
