#!/usr/bin/env bash
# Agreement of converted packages with LibTorch on every model in a folder (the table in
# docs/verify.md): converts each MODEL.pt in fp32 and fp16 and runs
# `ts2coreml verify --runs 3 --localize`; prints one line per package.
#
# Usage: bench/interp_agreement.sh BUILD_DIR MODELS_DIR
#   MODELS_DIR  made by `tests/models/make_models.py MODELS_DIR [NAME ...]` (NAME.pt + NAME.json)
set -uo pipefail
build=$(cd "${1:?usage: bench/interp_agreement.sh BUILD_DIR MODELS_DIR}" && pwd)
models=$(cd "${2:?usage: bench/interp_agreement.sh BUILD_DIR MODELS_DIR}" && pwd)
cli="$build/bin/ts2coreml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$models"/*.pt; do
  m=$(basename "$f" .pt)
  shape=$(/usr/bin/python3 -c "import json,sys; print('x'.join(map(str, json.load(open(sys.argv[1]))['input_shape'])))" \
          "$models/$m.json")
  for p in fp32 fp16; do
    if ! "$cli" convert "$f" -o "$tmp/$m.$p.mlpackage" --input "x:$shape" --precision "$p" \
         --quiet > "$tmp/convert.log" 2>&1; then
      echo "$m $p: convert failed: $(tail -1 "$tmp/convert.log" | cut -c1-200)"
      continue
    fi
    "$cli" verify "$f" "$tmp/$m.$p.mlpackage" --runs 3 --localize > "$tmp/verify.log" 2>&1
    echo "$m $p: exit $? $(grep -E 'output_|first op|no single' "$tmp/verify.log" | tr -s ' \n' ' ')"
    rm -rf "$tmp/$m.$p.mlpackage"
  done
done
