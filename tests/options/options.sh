#!/usr/bin/env bash
# options.sh TOOL WORK SRC TOOL_PATH... - honest options (issue 14): TOOL (one of the TOOL_PATHs,
# by name) accepts exactly the options of its row in the table below, its --help lists exactly
# those, and every other option any tool has is a usage error: exit 2 with
#   TOOL: unrecognized option '--report'
#   Try 'TOOL --help' for more information.
# "Every option any tool has" is read from the tools themselves: the option lists of every
# TOOL_PATH's --help, and the option tables in SRC/tools/*.c, SRC/tools/tool.h and
# SRC/samples/mcz-sample.c, so that an option added anywhere is tried on every tool.
# TOOL=table instead checks that the table has one row per TOOL_PATH and no other.
set -euo pipefail
tool=$1 work=$2/$1 src=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL ($tool): $*"; exit 1; }

# ---- the table -------------------------------------------------------------------------------
# TOOL  the options it acts on (and its --help lists), short and long
accepts() {
  cat <<'TABLE'
mcz            -h --help --version
mcz-inspect    --tensors --tensor --verify --json --html -f --force -q --quiet -h --help --version
mcz-pack       -o --output --level -j --threads -f --force -q --quiet --json --report -h --help --version
mcz-unpack     -o --output --part --external-data -j --threads -f --force -q --quiet -h --help --version
mcz-prune      -o --output --sparsity --pattern --scope --normalize --embeddings --min-elements --exclude --external-data -j --threads --json --report -f --force -q --quiet -h --help --version
mcz-quantize   -o --output --bits --granularity --block-size --symmetric --asymmetric --method --target-sqnr --keep-sensitive --min-elements --exclude --external-data -j --threads --json --report -f --force -q --quiet -h --help --version
mcz-partition  -o --output --parts --max-bytes --balance --cut -j --threads -f --force -q --quiet --json --report -h --help --version
mcz-bench      -j --threads --repeat --f32 --onnx -q --quiet --json --report -h --help --version
mcz-sample     -s --size -o --output --dtype --weights --seed -f --force -q --quiet -h --help --version
TABLE
}

# TOOL  a command line using some of its options that must succeed (exit 0). ONNX is a small
# sample model, MCZ the same packed, PARTS it packed in 2 partitions, OUT a fresh path prefix.
runs() {
  cat <<'TABLE'
mcz            --version
mcz            --help
mcz-inspect    ONNX --tensors --json
mcz-inspect    -q --verify MCZ
mcz-inspect    MCZ --html OUT.html -f
mcz-pack       ONNX -o OUT.mcz --level 3 -j 1 -q --report OUT.json
mcz-pack       --json ONNX --output=OUT.mcz -fq
mcz-unpack     MCZ -o OUT.onnx --external-data -j1 -q
mcz-unpack     PARTS --part 1 -fqo OUT.onnx
mcz-prune      ONNX -o OUT.onnx --sparsity 0.5 --pattern unstructured --min-elements 16 -q --report OUT.json
mcz-prune      ONNX -o OUT.onnx --sparsity=0.3 --scope global --normalize --external-data --json
mcz-quantize   ONNX -o OUT.mcz --bits 4 --granularity block --block-size 32 --asymmetric -j 2 -q
mcz-quantize   ONNX -o OUT.onnx --method minmax --target-sqnr 20 --symmetric --json -f
mcz-partition  ONNX -o OUT/ --parts 2 --balance nodes -q
mcz-partition  ONNX -o OUT.mcz --max-bytes 1G -j 1 --report OUT.json -f
mcz-bench      MCZ --repeat 1 --f32 -j 1 -q
mcz-bench      MCZ --repeat=1 --onnx ONNX --json
mcz-sample     mlp --size 64K --seed 3 --dtype float16 -o OUT.onnx -q
mcz-sample     cnn -s 64K --weights constant -fqo OUT.onnx
TABLE
}

# a value for an option that takes one: valid, so that only the option itself is on trial
declare -A value=(
  [output]=OUT [threads]=1 [report]=OUT.json [exclude]=NO-SUCH-WEIGHT [level]=3 [part]=0
  [sparsity]=0.5 [pattern]=unstructured [scope]=tensor [min-elements]=16 [bits]=8
  [granularity]=channel [block-size]=32 [method]=mse [target-sqnr]=30 [parts]=2 [max-bytes]=1M
  [balance]=weights [cut]=NO-SUCH-TENSOR [repeat]=1 [onnx]=NO-SUCH.onnx [tensor]=NO-SUCH-WEIGHT
  [html]=OUT.html [size]=64K [dtype]=float32 [weights]=initializer [seed]=1
)

# ---- the tools and their options ---------------------------------------------------------
declare -A path=()
for p in "$@"; do
  [ -x "$p" ] || fail "no program $p"
  path[$(basename "$p")]=$p
done

if [ "$tool" = table ]; then
  for t in "${!path[@]}"; do
    accepts | grep -q "^$t " || fail "the table in options.sh has no row for $t: add the options it acts on"
  done
  for t in $(accepts | awk '{print $1}'); do
    [ -n "${path[$t]:-}" ] || fail "the table in options.sh has a row for $t, which is not a tool"
  done
  echo "ok: one row per tool: ${!path[*]}"
  exit 0
fi
[ -n "${path[$tool]:-}" ] || fail "$tool is not among the tools given"
bin=${path[$tool]}

# the options an option list defines ("  -o, --output PATH  ...", "      --json  ...",
# "  --tensors"), as tests/ecosystem/man-check.sh reads them; one per line
defined() {
  sed -nE 's/^ {2,8}(-[A-Za-z0-9])(, (--[A-Za-z0-9][-A-Za-z0-9]*))?([ =[]|$).*/\1 \3/p
           s/^ {2,8}(--[A-Za-z0-9][-A-Za-z0-9]*)([ =[]|$).*/\1/p' | tr ' ' '\n' | sed '/^$/d'
}
# the options with a value, as the --help lists them ("--level N", "-o, --output PATH")
with_value() {
  sed -nE 's/^ {2,8}(-[A-Za-z0-9], )?(--[A-Za-z0-9][-A-Za-z0-9]*)[ =][^ ].*/\2/p'
}
# the options of the option tables in the sources: tool_option rows {ID, 'c', "name",
# TOOL_ARG_...} (tools/, tool.h's TOOL_OPTION_* macros) and getopt_long rows {"name",
# required_argument, NULL, 'c'} (mcz-sample)
from_sources() {
  grep -ohE "\{[A-Za-z_0-9']+, *('.'|0), *\"[-a-z0-9]+\", *TOOL_ARG_[A-Z]+\}" \
      "$src"/tools/*.c "$src"/tools/tool.h |
    sed -E "s/^\{[^,]+, *'(.)', *\"([-a-z0-9]+)\".*/-\1 --\2/; s/^\{[^,]+, *0, *\"([-a-z0-9]+)\".*/--\1/"
  grep -ohE "\{\"[-a-z0-9]+\", *(no|required|optional)_argument, *NULL, *[^}]+\}" \
      "$src"/samples/mcz-sample.c |
    sed -E "s/^\{\"([-a-z0-9]+)\".*, *'(.)'\}$/--\1 -\2/; s/^\{\"([-a-z0-9]+)\".*/--\1/"
}

: > "$work/all"
: > "$work/valued"
for t in "${!path[@]}"; do
  "${path[$t]}" --help > "$work/$t.help" 2>&1 || fail "$t --help exited $?"
  defined < "$work/$t.help" >> "$work/all"
  with_value < "$work/$t.help" >> "$work/valued"
done
from_sources | tr ' ' '\n' >> "$work/all"
sort -u -o "$work/all" "$work/all"
sort -u -o "$work/valued" "$work/valued"
[ "$(wc -l < "$work/all")" -gt 20 ] || fail "found only these options: $(tr '\n' ' ' < "$work/all")"

defined < "$work/$tool.help" | sort -u > "$work/help-opts"
accepts | awk -v t="$tool" '$1 == t { for (i = 2; i <= NF; i++) print $i }' | sort -u > "$work/table-opts"
[ -s "$work/table-opts" ] || fail "the table in options.sh has no row for $tool"
if ! diff -u --label "$tool --help" --label "options.sh table" "$work/help-opts" "$work/table-opts"; then
  fail "--help and the table list different options (above: - only in --help, + only in the table)"
fi

# ---- every option: accepted if the tool lists it, rejected otherwise --------------------------
# the tool's own diagnostics (mcz and mcz-sample word theirs differently)
case $tool in
mcz) unknown="mcz: unknown option '%s'" ;;
mcz-sample) unknown="mcz-sample: unknown option '%s'" ;;
*) unknown="$tool: unrecognized option '%s'" ;;
esac
try="Try '$tool --help' for more information."
# looked up without a program per option: the options --help lists, those taking a value,
# the long name of each short one ("  -o, --output" in some --help)
declare -A listed=() takes=() long_of=()
while read -r o; do listed[$o]=1; done < "$work/help-opts"
while read -r o; do takes[${o#--}]=1; done < "$work/valued"
while read -r s l; do long_of[$s]=${l#--}; done < <(sed -nE 's/^ {2,8}(-[A-Za-z0-9]), (--[-A-Za-z0-9]+).*/\1 \2/p' "$work"/*.help)
# the arguments that try OPTION, into the array `a`: the option and, if it takes one, a value
# (OUT -> a path under $work)
args_for() {
  local o=$1 name=${1#--}
  [ "${#o}" -ne 2 ] || name=${long_of[$o]:-}
  a=("$o")
  if [ -n "$name" ] && [ -n "${takes[$name]:-}" ]; then
    local v=${value[$name]:-}
    [ -n "$v" ] || fail "no sample value for --$name in options.sh's value table: add one"
    a+=("${v//OUT/$work/out}")
  fi
}
# run ARGS...: the tool's exit status in $rc, its stderr lines in err[], stdout in $work/out.txt
run() {
  set +e
  "$bin" "$@" > "$work/out.txt" 2> "$work/err.txt" < /dev/null
  rc=$?
  set -e
  mapfile -t err < "$work/err.txt"
}
# has_line LINE: LINE is one of err[]; has_prefix TEXT: a line of err[] starts with TEXT
has_line() { local l; for l in "${err[@]}"; do [ "$l" != "$1" ] || return 0; done; return 1; }
has_prefix() { local l; for l in "${err[@]}"; do [ "${l#"$1"}" = "$l" ] || return 0; done; return 1; }
# OPTION refused: exit 2, the diagnostic naming it, the hint to --help, nothing on stdout
refused() {
  local o=$1 msg
  shift
  run "$@"
  [ "$rc" -eq 2 ] || fail "$*: exit $rc, expected 2 (a usage error: --help does not list $o); stdout: $(head -c 300 "$work/out.txt")"
  # shellcheck disable=SC2059
  printf -v msg "$unknown" "$o"
  if [ "$tool" = mcz ] || [ "$tool" = mcz-sample ]; then # they quote the argument whole
    has_prefix "${msg%\'}" || fail "$*: no line '$msg' on stderr: $(cat "$work/err.txt")"
  else
    has_line "$msg" ||
      fail "$*: no line \"$msg\" on stderr (does $tool take $o, which its --help does not list?): $(cat "$work/err.txt")"
  fi
  has_line "$try" || fail "$*: no line \"$try\" on stderr: $(cat "$work/err.txt")"
  [ ! -s "$work/out.txt" ] || fail "$*: printed on stdout: $(head -c 300 "$work/out.txt")"
}
# OPTION accepted: none of the parser's complaints (with no input: exit 0 for --help and
# --version, else 2, "no input")
accepted() {
  local o=$1 l
  shift
  run "$@"
  for l in "${err[@]}"; do
    case $l in
    *"unrecognized option"* | *"unknown option"* | *"requires an argument"* | *"needs a value"* | *"doesn't allow"*)
      fail "$*: refused, but --help lists $o: $l" ;;
    esac
  done
  [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || fail "$* (no input): exit $rc: $(cat "$work/err.txt")"
}

n_ok=0 n_rej=0
while read -r o; do
  args_for "$o"
  if [ -n "${listed[$o]:-}" ]; then
    accepted "$o" "${a[@]}"
    n_ok=$((n_ok + 1))
    continue
  fi
  refused "$o" "${a[@]}"
  if [ "${#a[@]}" -eq 2 ] && [ "${o#--}" != "$o" ]; then
    refused "$o" "$o=${a[1]}"
  fi
  n_rej=$((n_rej + 1))
done < "$work/all"

# long names match exactly: each long option the tool lists, one letter short, is refused
# (unless that is an option of its own: --tensor of --tensors). mcz-sample, on getopt_long,
# takes unambiguous abbreviations still.
n_abbr=0
if [ "$tool" != mcz-sample ]; then
  for o in "${!listed[@]}"; do
    short=${o%?}
    [ "${o#--}" != "$o" ] && [ "${#short}" -gt 3 ] && [ -z "${listed[$short]:-}" ] || continue
    args_for "$o"
    a[0]=$short
    refused "$short" "${a[@]}"
    n_abbr=$((n_abbr + 1))
  done
fi

# ---- real command lines -----------------------------------------------------------------------
sample=${path[mcz-sample]:-} pack=${path[mcz-pack]:-} partition=${path[mcz-partition]:-}
n_run=0
if runs | grep -q "^$tool "; then
  [ -n "$sample" ] && [ -n "$pack" ] && [ -n "$partition" ] ||
    fail "mcz-sample, mcz-pack and mcz-partition are needed to make the models"
  "$sample" mlp --size 64K -o "$work/m.onnx" -q
  "$pack" "$work/m.onnx" -o "$work/m.mcz" -q
  "$partition" "$work/m.onnx" -o "$work/m.parts.mcz" --parts 2 -q
  while read -r line; do
    n_run=$((n_run + 1))
    read -r -a argv <<< "$line"
    for i in "${!argv[@]}"; do
      case ${argv[$i]} in
      ONNX) argv[$i]=$work/m.onnx ;;
      MCZ) argv[$i]=$work/m.mcz ;;
      PARTS) argv[$i]=$work/m.parts.mcz ;;
      *OUT*) argv[$i]=${argv[$i]//OUT/$work/run$n_run} ;;
      esac
    done
    run "${argv[@]}"
    [ "$rc" -eq 0 ] || fail "$tool $line: exit $rc: $(cat "$work/err.txt")"
  done < <(runs | awk -v t="$tool" '$1 == t { $1 = ""; sub(/^ +/, ""); print }')
fi
echo "ok: $tool accepts its $n_ok options, refuses $n_rej others and $n_abbr abbreviations;" \
  "$n_run command lines ran"
