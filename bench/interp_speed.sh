#!/usr/bin/env bash
# Interpreter speed against LibTorch's forward on the same models: converts each test model in
# fp32 and fp16 and runs `ts2coreml verify --time --runs N` (the first run is a warm-up and not
# counted). Prints a Markdown table (the one in docs/verify.md).
#
# Usage: bench/interp_speed.sh BUILD_DIR [RUNS] [MODEL ...]
#   BUILD_DIR  a configured and built tree (its test_models/ made by `ctest -R make_test_models`)
#   RUNS       runs per package (default 6)
#   MODEL      default: mobilenet_v3_large mobilenet_v2 resnet18 bn_after_concat
set -euo pipefail
build=$(cd "${1:?usage: bench/interp_speed.sh BUILD_DIR [RUNS] [MODEL ...]}" && pwd)
runs=${2:-6}
shift $(( $# >= 2 ? 2 : 1 ))
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  models=(mobilenet_v3_large mobilenet_v2 resnet18 bn_after_concat)
fi
cli="$build/bin/ts2coreml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| model | precision | LibTorch forward (ms) | interpreter (ms) | ratio |"
echo "| --- | --- | ---: | ---: | ---: |"
for m in "${models[@]}"; do
  shape=$(/usr/bin/python3 -c "import json,sys; print('x'.join(map(str, json.load(open(sys.argv[1]))['input_shape'])))" \
          "$build/test_models/$m.json")
  for p in fp32 fp16; do
    "$cli" convert "$build/test_models/$m.pt" -o "$tmp/$m.$p.mlpackage" --input "x:$shape" \
      --precision "$p" --quiet
    line=$("$cli" verify "$build/test_models/$m.pt" "$tmp/$m.$p.mlpackage" --time --runs "$runs" \
           | grep 'time per run')
    t=$(echo "$line" | sed -E 's/.*forward ([0-9.]+) ms, interpreter ([0-9.]+) ms.*/\1 \2/')
    read -r torch interp <<< "$t"
    ratio=$(/usr/bin/python3 -c "print(f'{$interp / $torch:.2f}')")
    echo "| $m | $p | $torch | $interp | $ratio |"
  done
done
