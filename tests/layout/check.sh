#!/bin/bash
# One case of the layout-op tests (see CMakeLists.txt beside this file).
# usage: check.sh BIN_DIR MODELS_DIR COMPARE_JS CASE
set -euo pipefail
bin=$1 dir=$2 compare=$3 case=$4
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
check() { "$py" "$here/check-report.py" "$@"; }
cd "$dir"

case $case in
gpt.int8 | gpt.int4)
    bits=${case#gpt.int}
    out=gpt-q$bits.onnx
    "$bin/mcz-quantize" gpt.onnx -o "$out" --bits "$bits" -f --json > "$out.json"
    # every weight an export has: the embedding and its tied head, the fused QKV behind its
    # Slices, [out, in] weights behind Transposes, one behind an Unsqueeze, a position table
    check gpt.onnx "$out.json" 1024 embed.weight=quantized pos.weight=quantized \
        attn.qkv.weight=quantized attn.o.weight=quantized mlp.up.weight=quantized \
        mlp.down.weight=quantized proj2.weight=quantized \
        mlp.gate.weight=kept:"a Reshape merges" extra.bias=kept:"feeds no weight input" \
        --qdq "$out" --unfused q_proj,k_proj,v_proj,proj2,lm_head
    if [ "$bits" = 8 ]; then cos=0.999; else cos=0.98; fi
    node "$compare" gpt.onnx "$out" --min-cos "$cos"
    # the .mcz holds the same codes
    "$bin/mcz-quantize" gpt.onnx -o "gpt-q$bits.mcz" --bits "$bits" -f -q
    "$bin/mcz-unpack" "gpt-q$bits.mcz" -o "gpt-q$bits-unpacked.onnx" -f -q
    node "$compare" "$out" "gpt-q$bits-unpacked.onnx"
    ;;
lstm.int8 | lstm.int4)
    bits=${case#lstm.int}
    out=lstm-if-q$bits.onnx
    "$bin/mcz-quantize" lstm-if.onnx -o "$out" --bits "$bits" -f --json > "$out.json"
    # W in the main graph, R a Constant in the inner branch; both sliced per gate
    check lstm-if.onnx "$out.json" 1024 lstm.W_full=quantized lstm.R_full=quantized
    if [ "$bits" = 8 ]; then l2=0.02; else l2=0.15; fi
    node "$compare" lstm-if.onnx "$out" --max-rel-l2 "$l2"
    ;;
sensitive)
    # --keep-sensitive: the tied embedding, the first and the last weight layers go to 8 bits
    "$bin/mcz-quantize" gpt.onnx -o gpt-ks.onnx --bits 4 --keep-sensitive -f --json > gpt-ks.json
    "$py" - gpt-ks.json <<'PY'
import json, sys
rows = {w['name']: w for w in json.load(open(sys.argv[1]))['weights']}
want = {'embed.weight': (8, 'an embedding'), 'pos.weight': (8, 'an embedding'),
        'proj2.weight': (8, 'the last weight layer'), 'attn.o.weight': (4, None),
        'mlp.up.weight': (4, None)}
bad = [(n, rows[n].get('bits'), rows[n].get('sensitive')) for n, (b, why) in want.items()
       if rows[n].get('bits') != b or rows[n].get('sensitive') != why]
print('FAIL', bad) if bad else print('sensitive weights at 8 bits: ok')
sys.exit(1 if bad else 0)
PY
    node "$compare" gpt.onnx gpt-ks.onnx --min-cos 0.98
    ;;
nan)
    "$bin/mcz-quantize" nan.onnx -o nan-q8.onnx -f --json > nan-q8.json
    check nan.onnx nan-q8.json 1024 bad.weight=kept:"NaN or infinite"
    ;;
prune)
    "$bin/mcz-prune" gpt.onnx -o gpt-p.onnx --sparsity 0.5 -f --json > gpt-p.json
    check gpt.onnx gpt-p.json 1024 embed.weight=kept:"an embedding" pos.weight=kept:embedding \
        attn.qkv.weight=pruned attn.o.weight=pruned proj2.weight=pruned
    "$bin/mcz-prune" gpt.onnx -o gpt-pe.onnx --sparsity 0.5 --embeddings -f --json > gpt-pe.json
    check gpt.onnx gpt-pe.json 1024 embed.weight=pruned pos.weight=pruned
    node "$compare" gpt.onnx gpt-p.onnx --min-cos 0.5
    ;;
*)
    echo "check.sh: unknown case '$case'" >&2
    exit 2
    ;;
esac
