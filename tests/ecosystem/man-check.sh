#!/usr/bin/env bash
# man-check.sh TOOL MANPAGE VERSION: the man page of TOOL renders without a warning, names TOOL
# and VERSION, and its OPTIONS section lists exactly the options (long and short) that
# `TOOL --help` lists; every option the page's SYNOPSIS and OPTIONS mention, and every option
# the help text mentions, is one the tool has.
set -euo pipefail
tool=$1 page=$2 version=$3
name=$(basename "$tool")
fail() { echo "FAIL ($name): $*"; exit 1; }
[ -x "$tool" ] || fail "no program $tool"
[ -f "$page" ] || fail "no man page: write $page (see docs/man/mcz-pack.1 for the layout)"
command -v groff >/dev/null 2>&1 || fail "groff is needed to render man pages (Debian: groff-base)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
groff -man -Tascii -ww -rLL=200n -P-cbou "$page" > "$tmp/page" 2> "$tmp/warnings" || fail "groff failed"
[ ! -s "$tmp/warnings" ] || fail "groff warnings: $(cat "$tmp/warnings")"
"$tool" --help > "$tmp/help" || fail "$name --help exited $?"

# the options an option list defines: "  -o, --output PATH  ...", "      --json  ...", "  --tensors"
# (indent $1 spaces); one per line, sorted
defined() {
  sed -nE "s/^ {$1}(-[A-Za-z0-9])(, (--[A-Za-z0-9][-A-Za-z0-9]*))?([ =[]|$).*/\1 \3/p
           s/^ {$1}(--[A-Za-z0-9][-A-Za-z0-9]*)([ =[]|$).*/\1/p" | tr ' ' '\n' | sed '/^$/d' | sort -u
}
# every option mentioned anywhere in the input
mentioned() { grep -oE '(^|[^-A-Za-z0-9])--?[A-Za-z][-A-Za-z0-9]*' | sed -E 's/^[^-]//' | sort -u; }
# a section of the rendered page: from its heading to the next heading
section() { awk -v s="$1" '/^[A-Z]/ { on = ($0 == s) ; next } on' "$tmp/page"; }

defined '2,8' < "$tmp/help" > "$tmp/help-opts"
section OPTIONS | defined 7 > "$tmp/man-opts"
[ -s "$tmp/help-opts" ] || fail "no options found in --help"
[ -s "$tmp/man-opts" ] || fail "no options found in the man page's OPTIONS section"
if ! diff -u --label "$name --help" --label "$(basename "$page") OPTIONS" "$tmp/help-opts" "$tmp/man-opts"; then
  fail "--help and the man page list different options (above: - only in --help, + only in the page)"
fi
{ section SYNOPSIS; section OPTIONS; } | mentioned > "$tmp/man-mentioned"
extra=$(comm -23 "$tmp/man-mentioned" "$tmp/help-opts" | tr '\n' ' ')
[ -z "$extra" ] || fail "the man page mentions options $name does not list: $extra"
extra=$(mentioned < "$tmp/help" | comm -23 - "$tmp/help-opts" | tr '\n' ' ')
[ -z "$extra" ] || fail "$name --help mentions options it does not list: $extra"

grep -Eq "^ +$name - " "$tmp/page" || fail "NAME section does not name $name"
grep -q "mcz $version" "$tmp/page" || fail "the page is not for version $version (.TH line)"
echo "ok: $name: $(tr '\n' ' ' < "$tmp/help-opts")"
