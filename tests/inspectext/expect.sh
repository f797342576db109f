#!/bin/sh
# expect.sh STATUS OUTFILE COMMAND... -- PATTERN...: run COMMAND (stdout and stderr to OUTFILE),
# then check its exit status is STATUS and that OUTFILE matches every PATTERN (grep -E).
# Patterns starting with "!" must NOT match. Prints the output when a check fails.
set -u
want=$1 out=$2
shift 2
cmd=""
for a in "$@"; do
  shift
  [ "$a" = "--" ] && break
  cmd="$cmd '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"
done
eval "$cmd" >"$out" 2>&1
got=$?
fail() { echo "FAIL: $*"; echo "--- output of:$cmd"; cat "$out"; exit 1; }
[ "$got" -eq "$want" ] || fail "exit status $got, expected $want"
for pat in "$@"; do
  case $pat in
  !*) if grep -Eq -- "${pat#!}" "$out"; then fail "output matches /${pat#!}/"; fi ;;
  *) grep -Eq -- "$pat" "$out" || fail "output lacks /$pat/" ;;
  esac
done
echo "ok:$cmd"
