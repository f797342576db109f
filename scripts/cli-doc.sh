#!/bin/sh
# cli-doc.sh BINDIR [OUT] - write the command-line reference (docs/cli.md): the fixed
# introduction, then each tool's --help. BINDIR is an installed bin/ (`mcz help` lists the
# programs beside it: a build tree also holds test programs). tests/ecosystem checks that
# docs/cli.md is what this prints, so the page cannot drift from the tools.
set -eu
bin=$1
out=${2:--}
{
  cat <<'INTRO'
# Command-line reference

The tools share the options of `../shared/DESIGN.md`'s command-line contract:
`-o PATH` (`-` for standard output), `-f/--force`, `-q`, `-j/--threads N`, `--json`, `--report FILE.json`,
`--exclude PATTERN`, `--external-data`, `--help`, `--version`. Each tool takes only those it acts on, as
its `--help` below lists them: any other option is a usage error (exit 2, "mcz-TOOL: unrecognized option
'--X'"). Inputs are ONNX or .mcz, recognised by content;
an output named `*.mcz` gets the container, anything else ONNX. Exit status: 0 success,
1 failure (bad input, I/O), 2 usage error. Errors read `mcz-TOOL: FILE: what is wrong`.

The text below is each tool's `--help` (the man pages in `docs/man/` list the same options;
a test checks they agree; `scripts/cli-doc.sh PREFIX/bin docs/cli.md` rewrites this page
from an installed prefix).

INTRO
  for t in mcz mcz-inspect mcz-pack mcz-unpack mcz-quantize mcz-prune mcz-partition mcz-bench \
           mcz-sample; do
    printf '\n## %s\n\n```\n' "$t"
    PATH=/usr/bin:/bin "$bin/$t" --help
    printf '```\n'
  done
} > "$( [ "$out" = - ] && echo /dev/stdout || echo "$out.tmp")"
[ "$out" = - ] || mv "$out.tmp" "$out"
