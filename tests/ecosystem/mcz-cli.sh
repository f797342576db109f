#!/usr/bin/env bash
# mcz-cli.sh CASE BIN_DIR WORK VERSION [MODEL]: the `mcz` dispatcher (tools/mcz.c).
set -euo pipefail
case=$1 bin=$2 work=$3/$1 version=$4 model=${5:-}
mcz=$bin/mcz
rm -rf "$work"
mkdir -p "$work" "$work/empty" # empty: a PATH with no program
fail() { echo "FAIL ($case): $*"; exit 1; }
# run NAME CMD...: stdout to $work/NAME.out, stderr to $work/NAME.err, status in $rc
run() {
  local n=$1
  shift
  set +e
  "$@" > "$work/$n.out" 2> "$work/$n.err"
  rc=$?
  set -e
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; stderr: $(cat "$work/$3.err")"; }
[ -x "$mcz" ] || fail "no $mcz: tools/mcz.c must be built as the mcz executable"

case $case in
list) # `mcz`, `mcz help`, `mcz --help`: usage and the commands, exit 0
  run alone "$mcz"
  expect_rc 0 "mcz" alone
  grep -q '^Usage: mcz COMMAND' "$work/alone.out" || fail "no usage"
  for t in "$bin"/mcz-*; do
    c=${t##*/mcz-}
    case $c in inspect|pack|unpack|prune|quantize|partition|bench|sample) ;; *) continue ;; esac
    grep -Eq "^  $c +[a-z]" "$work/alone.out" || fail "command $c not listed"
    ! grep -Eq "^  $c .*\(not installed\)" "$work/alone.out" || fail "$c listed as not installed"
  done
  # the build tree's mcz lists user commands only: no test program sits beside it
  ! grep -q '^Other mcz-\* programs' "$work/alone.out" ||
    fail "mcz lists programs that are not mcz commands: $(sed -n '/^Other mcz-/,/^$/p' "$work/alone.out" | tr '\n' ' ')"
  for h in help --help -h; do
    run "$h" "$mcz" "$h"
    expect_rc 0 "mcz $h" "$h"
    cmp -s "$work/alone.out" "$work/$h.out" || fail "mcz $h differs from mcz alone"
  done
  ;;
help-command) # `mcz help COMMAND` is `mcz-COMMAND --help`
  for c in inspect sample; do
    run "$c" "$mcz" help "$c"
    expect_rc 0 "mcz help $c" "$c"
    "$bin/mcz-$c" --help > "$work/$c.direct"
    cmp "$work/$c.out" "$work/$c.direct" || fail "mcz help $c is not mcz-$c --help"
  done
  ;;
dispatch) # `mcz COMMAND ARGS` runs mcz-COMMAND ARGS: same output, same exit status
  run via "$mcz" inspect "$model"
  expect_rc 0 "mcz inspect MODEL" via
  "$bin/mcz-inspect" "$model" > "$work/direct.out"
  cmp "$work/via.out" "$work/direct.out" || fail "mcz inspect and mcz-inspect differ"
  run missing "$mcz" inspect "$work/no-such-file.onnx"
  expect_rc 1 "mcz inspect (missing file)" missing
  grep -q '^mcz-inspect: ' "$work/missing.err" || fail "error not from mcz-inspect: $(cat "$work/missing.err")"
  run noarg "$mcz" inspect
  expect_rc 2 "mcz inspect (no file)" noarg
  run badopt "$mcz" quantize --no-such-option
  expect_rc 2 "mcz quantize --no-such-option" badopt
  ;;
unknown) # an unknown command: exit 2, nearest names suggested
  run typo "$mcz" quantise model.onnx
  expect_rc 2 "mcz quantise" typo
  grep -qF "mcz: 'quantise' is not an mcz command (did you mean 'quantize'?)" "$work/typo.err" ||
    fail "message: $(cat "$work/typo.err")"
  run helptypo "$mcz" help inspekt
  expect_rc 2 "mcz help inspekt" helptypo
  grep -qF "did you mean 'inspect'" "$work/helptypo.err" || fail "message: $(cat "$work/helptypo.err")"
  run far "$mcz" zzzzzzzz
  expect_rc 2 "mcz zzzzzzzz" far
  grep -qF "mcz: 'zzzzzzzz' is not an mcz command" "$work/far.err" || fail "message: $(cat "$work/far.err")"
  ! grep -q "did you mean" "$work/far.err" || fail "a suggestion for a name far from every command"
  for bad in ../mcz-inspect /bin/true .hidden; do
    run path "$mcz" "$bad"
    expect_rc 2 "mcz $bad" path
  done
  ;;
options) # mcz's own options
  run version "$mcz" --version
  expect_rc 0 "mcz --version" version
  [ "$(cat "$work/version.out")" = "mcz $version" ] || fail "mcz --version: $(cat "$work/version.out")"
  run bogus "$mcz" --bogus
  expect_rc 2 "mcz --bogus" bogus
  grep -qF "mcz: unknown option '--bogus'" "$work/bogus.err" || fail "message: $(cat "$work/bogus.err")"
  run two "$mcz" help inspect pack
  expect_rc 2 "mcz help inspect pack" two
  ;;
path) # beside mcz first, then PATH; arguments passed as they are; PATH programs are listed
  mkdir -p "$work/path"
  printf '#!/bin/sh\nfor a in "$0" "$@"; do echo "[$a]"; done\n' > "$work/path/mcz-hello"
  printf '#!/bin/sh\necho FAKE\n' > "$work/path/mcz-inspect"
  printf '#!/bin/sh\necho NOT-EXECUTABLE\n' > "$work/path/mcz-noexec"
  chmod +x "$work/path/mcz-hello" "$work/path/mcz-inspect"
  export PATH="$work/path:$PATH"
  run hello "$mcz" hello a 'b c' ''
  expect_rc 0 "mcz hello" hello
  printf '[%s]\n' "$work/path/mcz-hello" a 'b c' '' | cmp - "$work/hello.out" ||
    fail "arguments not passed as given: $(cat "$work/hello.out")"
  run inspect "$mcz" inspect --version
  expect_rc 0 "mcz inspect --version" inspect
  grep -q "^mcz-inspect (mcz) $version" "$work/inspect.out" ||
    fail "the mcz-inspect on PATH ran instead of the one beside mcz: $(cat "$work/inspect.out")"
  run list "$mcz"
  grep -qx '  hello' "$work/list.out" || fail "mcz-hello on PATH is not listed"
  ! grep -q noexec "$work/list.out" || fail "a file that is not executable is listed"
  run typo "$mcz" helo
  grep -qF "did you mean 'hello'" "$work/typo.err" || fail "PATH commands not suggested"
  ;;
symlink) # a symbolic link to mcz elsewhere still finds the tools beside the real program
  mkdir -p "$work/link"
  ln -s "$mcz" "$work/link/mcz"
  run v env PATH="$work/empty" "$work/link/mcz" inspect --version
  expect_rc 0 "LINK/mcz inspect --version" v
  grep -q "^mcz-inspect (mcz) $version" "$work/v.out" || fail "$(cat "$work/v.out")"
  ;;
not-installed) # a known command that cannot be found: exit 1, saying so
  mkdir -p "$work/alone"
  cp "$mcz" "$work/alone/mcz"
  run ni env PATH="$work/empty" "$work/alone/mcz" inspect "$model"
  expect_rc 1 "a lone mcz, inspect" ni
  grep -qF "mcz: 'inspect' is an mcz command, but mcz-inspect is not installed" "$work/ni.err" ||
    fail "message: $(cat "$work/ni.err")"
  run list env PATH="$work/empty" "$work/alone/mcz"
  grep -Eq '^  inspect .*\(not installed\)$' "$work/list.out" || fail "not marked as not installed"
  ;;
*)
  fail "unknown case"
  ;;
esac
echo "ok: $case"
