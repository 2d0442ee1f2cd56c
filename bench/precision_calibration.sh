#!/usr/bin/env bash
# The calibration table of docs/precision.md: converts each model in fp16 without and with
# `--calibrate N` (seeds 1000..), counts the MIL ops computing in fp16 and fp32 from the convert
# summary, and verifies the package against LibTorch on verify's seeds 0, 1, 2 (apart from the
# calibration seeds). Prints one markdown row per model and plan.
#
# Usage: bench/precision_calibration.sh BUILD_DIR MODELS_DIR [RUNS] [MODEL ...]
#   MODELS_DIR  made by `tests/models/make_models.py MODELS_DIR [NAME ...]` (NAME.pt + NAME.json)
#   RUNS        calibration runs (default 3)
#   MODEL       default: vit_b_16 swin_t maxvit_t convnext_tiny transformer_encoder
set -uo pipefail
build=$(cd "${1:?usage: bench/precision_calibration.sh BUILD_DIR MODELS_DIR [RUNS] [MODEL ...]}" && pwd)
models=$(cd "${2:?usage: bench/precision_calibration.sh BUILD_DIR MODELS_DIR [RUNS] [MODEL ...]}" && pwd)
runs=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(vit_b_16 swin_t maxvit_t convnext_tiny transformer_encoder)
cli="$build/bin/ts2coreml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| model | plan | fp16 ops | fp32 ops | fp16 share | kept fp32 (reasons) | cosine (worst of seeds 0-2) | verdict |"
echo "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |"
for m in "${names[@]}"; do
  f="$models/$m.pt"
  read -r name shape < <(/usr/bin/python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
print(j.get('input_name', 'x'), 'x'.join(map(str, j['input_shape'])))" "$models/$m.json")
  for plan in plain calibrated; do
    flags=()
    [ "$plan" = calibrated ] && flags=(--calibrate "$runs")
    pkg="$tmp/$m.$plan.mlpackage"
    if ! "$cli" convert "$f" -o "$pkg" --input "$name:$shape" --precision fp16 "${flags[@]}" \
         > "$tmp/convert.log" 2>&1; then
      echo "| $m | $plan | convert failed: $(tail -1 "$tmp/convert.log" | cut -c1-200) |"
      continue
    fi
    read -r fp16 fp32 < <(sed -nE 's/.*MIL ops \([0-9]+, consts not counted; ([0-9]+) fp16, ([0-9]+) fp32\).*/\1 \2/p' "$tmp/convert.log")
    share=$(/usr/bin/python3 -c "print(f'{100*$fp16/($fp16+$fp32):.2f}%')")
    kept=$(sed -n '/^  kept fp32:/,/^  casts inserted/p' "$tmp/convert.log" | grep '^    ' \
           | sed -E 's/^ +//; s/ declares needs_fp32_compute.*/ declares needs_fp32_compute/' \
           | tr '\n' ';' | sed 's/;$//; s/;/; /g; s/|/\\|/g')
    "$cli" verify "$f" "$pkg" --runs 3 > "$tmp/verify.log" 2>&1
    rc=$?
    cos=$(grep -oE 'cosine [0-9.]+' "$tmp/verify.log" | awk '{print $2}' | sort -g | head -1)
    echo "| $m | $plan | $fp16 | $fp32 | $share | ${kept:-none} | $cos | $([ $rc -eq 0 ] && echo ok || echo "exit $rc") |"
    grep -E '^  calibration:' "$tmp/convert.log" | sed 's/^  /    /' >&2
    rm -rf "$pkg"
  done
done
