#!/usr/bin/env bash
# The `--precision auto` table of docs/precision.md: converts each model with `--precision auto`
# (calibration seeds 1000.., held-back seeds 0, 1, 2) and prints one markdown row per model from
# the convert summary: the cosine reached on the held-back seeds, the FP16 share of float ops and
# estimated FLOPs, the FP16/FP32 transitions, the rule chosen, the plans, interpreter runs and
# search time, and the whole conversion's wall and user CPU time (/usr/bin/time) with the load
# average when it started. A model the converter refuses, or whose target is not reached, says so.
#
# Usage: bench/precision_auto.sh BUILD_DIR MODELS_DIR [MIN_COSINE] [MODEL ...]
#   MODELS_DIR  made by `tests/models/make_models.py MODELS_DIR [NAME ...]` (NAME.pt + NAME.json)
#   MIN_COSINE  the target (default: convert's, 0.9999)
#   MODEL       default: every NAME.pt with a NAME.json in MODELS_DIR
set -uo pipefail
usage="usage: bench/precision_auto.sh BUILD_DIR MODELS_DIR [MIN_COSINE] [MODEL ...]"
build=$(cd "${1:?$usage}" && pwd)
models=$(cd "${2:?$usage}" && pwd)
target=${3:-}
shift $(( $# < 3 ? $# : 3 ))
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for j in "$models"/*.json; do
    n=$(basename "$j" .json)
    [ -f "$models/$n.pt" ] && names+=("$n")
  done
fi
cli="$build/bin/ts2coreml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--precision auto)
[ -n "$target" ] && flags+=(--min-cosine "$target")
echo "| model | held-back cosine | fp16 ops | fp16 FLOPs | transitions | fp32 ops (rule) | plans / interpreter runs | search | convert wall / user CPU (load) |"
echo "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"
for m in "${names[@]}"; do
  read -r name shape < <(/usr/bin/python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
print(j.get('input_name', 'x'), 'x'.join(map(str, j['input_shape'])))" "$models/$m.json")
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %U' -o "$tmp/time" "$cli" convert "$models/$m.pt" -o "$tmp/$m.mlpackage" \
    --input "$name:$shape" "${flags[@]}" > "$tmp/convert.log" 2>&1
  rc=$?
  read -r wall user < <(tail -1 "$tmp/time")
  rm -rf "$tmp/$m.mlpackage"
  if [ $rc -ne 0 ]; then
    echo "| $m | convert failed (exit $rc): $(grep -v '^\s*$' "$tmp/convert.log" | tail -1 | cut -c1-160 | sed 's/|/\\|/g') | | | | | | | ${wall}s / ${user}s ($load) |"
    continue
  fi
  log="$tmp/convert.log"
  head=$(grep -m1 'precision auto:' "$log")
  held=$(grep -m1 'held-back seeds' "$log" | sed -E 's/.*cosine ([0-9.]+), (.*)/\1 (\2)/')
  read -r fp16 ops opshare flopshare trans < <(grep -m1 -E '^ +fp16: [0-9]+ of' "$log" | sed -E \
    's/.*fp16: ([0-9]+) of ([0-9]+) float ops \(([0-9.]+)%\), ([0-9.]+)% of the estimated FLOPs; ([0-9]+) .*/\1 \2 \3 \4 \5/')
  moved=$(echo "$head" | sed -E 's/.*with ([0-9]+) ops? moved.*/\1/')
  reached=$(echo "$head" | grep -q 'NOT reached' && echo ", NOT reached on calibration")
  rule=$(grep -m1 -E '^ +chosen:' "$log" | sed -E "s/^ +chosen: //; s/^(plain fp16|the prefix rule|localize's blame).*/\1/")
  read -r plans runs secs < <(grep -m1 -E '^ +search:' "$log" | sed -E \
    's/.*search: ([0-9]+) plans in [0-9]+ measurements .*, ([0-9]+) interpreter runs, ([0-9.]+) s .*/\1 \2 \3/')
  echo "| $m | $held | $opshare% of $ops | $flopshare% | $trans | $moved ($rule$reached) | $plans / $runs | ${secs}s | ${wall}s / ${user}s ($load) |"
  grep -E '^ +(chosen|search|without search):' "$log" | sed "s/^ */  $m /" >&2
done
