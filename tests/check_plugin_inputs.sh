#!/bin/sh
# Fails when a lowering in plugins/ reads a node input by a literal position instead of a name
# declared beside its input table (sdk::InputIndex):
#   ctx.Input(0), ctx.Bool(5), ctx.IsNone(3)          an accessor given a number
#   ReadAxis(ctx, 1, ...), ParamOrFill(ctx, 2, ...)   a helper given the context and a number
#   for (uint32_t i : {1u, 2u, 3u})                    a loop over literal positions
# Outputs (OutputType(0), SetOutput(0, ...)) and list elements (ListType(dim, 0)) are not inputs.
# Unit tests (*_test.cpp) build nodes by position and are not checked.
# Usage: check_plugin_inputs.sh PLUGINS_DIR
set -eu
dir=${1:?usage: check_plugin_inputs.sh PLUGINS_DIR}

accessors='Input|InputType|InputList|Int|Float|Bool|Ints|Floats|String|ListSize|ListType|IsNone|IsConst|input_kind'
pattern="(\.|->)($accessors)\( *[0-9]|\( *(ctx|c|view) *, *[0-9]+ *[,)]|for \(uint32_t [a-z_]+ : \{ *[0-9]"

# The pattern must catch each kind of literal read and pass a named one.
for bad in 'ctx.Bool(5)' 'ctx.Input(7)' 'c->IsNone(3)' 'ReadAxis(ctx, 1, rank, op)' \
  'for (uint32_t i : {1u, 2u})'; do
  if ! printf '%s\n' "$bad" | grep -Eq "$pattern"; then
    echo "check_plugin_inputs: error: the pattern misses '$bad'; fix the pattern" >&2
    exit 1
  fi
done
for good in 'ctx.Input(kConvWeight)' 'ctx.OutputType(0)' 'ctx.SetOutput(0, y)' \
  'ctx.ListType(kCatTensors, 0)' 'ScalarLike(ctx, t.dtype, 0)'; do
  if printf '%s\n' "$good" | grep -Eq "$pattern"; then
    echo "check_plugin_inputs: error: the pattern flags '$good'; fix the pattern" >&2
    exit 1
  fi
done

found=$(find "$dir" \( -name '*.cpp' -o -name '*.h' \) ! -name '*_test.cpp' -print |
  sort | xargs grep -EnH "$pattern" || true)
if [ -n "$found" ]; then
  printf '%s\n' "$found" >&2
  echo "check_plugin_inputs: error: the lines above read a node input by a literal position; declare 'constexpr uint32_t kName = sdk::InputIndex(kTable, \"name\");' beside the input table and read by that name" >&2
  exit 1
fi
echo "check_plugin_inputs: no literal input positions in $dir"
