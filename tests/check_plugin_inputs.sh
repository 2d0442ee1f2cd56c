#!/bin/sh
# Fails when a lowering in plugins/ reads a node input by a literal position instead of a name
# declared beside its input table (sdk::InputIndex):
#   ctx.Input(0), ctx.Bool(5), ctx.Ints(2), c->IsNone(3)   an accessor given a number
#   ctx.Input(static_cast<uint32_t>(3))                     ... a number in a cast
#   ctx.Input(kWeight + 1), ctx.ListVar(kList - 1, k)       ... a name moved by arithmetic
#   sdk::InputIndex(kTable, "x") + 1                         a declared position moved
#   ReadAxis(ctx, 1, ...), ParamOrFill(ctx, kBias + 1, ...) a helper given the context and either
#   for (uint32_t i : {1u, 2u, 3u})                          a loop over literal positions
#   constexpr uint32_t kSelf = 0; enum X : uint32_t {...}   a name that is a bare number
# A call may span lines (clang-format breaks after '('). Outputs (OutputType(0), SetOutput(0, ...))
# and list elements (ListType(kCat, 0)) are not inputs. Unit tests (*_test.cpp) build nodes by
# position and are not checked.
# Usage: check_plugin_inputs.sh PLUGINS_DIR
set -eu
dir=${1:?usage: check_plugin_inputs.sh PLUGINS_DIR}

accessors='Input|InputType|InputList|Int|Float|Bool|Bools|Ints|Floats|String|ListSize|ListType'
accessors="$accessors|ListVar|ListElementIsNone|IsNone|IsConst|input_kind|InputInts"
# The first argument: a number, a cast of one, or anything with '+ N' / '- N' before its end.
arg='\s*(static_cast<[^>]*>\(\s*)?[0-9]|\s*[^,()]*[-+]\s*[0-9]'
pattern="(\.|->)($accessors)\(($arg)"
pattern="$pattern|\(\s*(ctx|c|view)\s*,\s*([0-9]+\s*[,)]|[^,()]*[-+]\s*[0-9])"
pattern="$pattern|InputIndex\([^()]*\)\s*[-+]"
pattern="$pattern|for\s*\(\s*(const\s+)?uint32_t\s+\w+\s*:\s*\{\s*[0-9]"
pattern="$pattern|constexpr\s+uint32_t\s+k\w*\s*=\s*[0-9]+u?\s*;"
pattern="$pattern|enum\s+(class\s+)?\w+\s*:\s*uint32_t"

# Prints FILE:LINE: TEXT for each match of the pattern in the files given (each read whole, so a
# call spanning lines is read as one).
scan() {
  perl -0777 -ne '
    my $re = qr/$ENV{T2C_PATTERN}/;
    while (/$re/g) {
      my $line = 1 + (substr($_, 0, $-[0]) =~ tr/\n//);
      (my $text = $&) =~ s/\s*\n\s*/ /g;
      print "$ARGV:$line: $text\n";
    }' "$@"
}
export T2C_PATTERN="$pattern"

# The pattern must catch each kind of literal read and pass a named one: one probe file each,
# all scanned at once.
probes=$(mktemp -d)
trap 'rm -rf "$probes"' EXIT
n=0
for bad in 'ctx.Bool(5)' 'ctx.Input(7)' 'ctx.Ints(2)' 'c->IsNone(3)' 'ctx.ListVar(1, k)' \
  'ctx.Input(static_cast<uint32_t>(3))' 'ctx.Input(kWeight + 1)' 'ctx.Bool(kLast - 1)' \
  'ctx.InputType(
      2)' 'constexpr uint32_t kBias = sdk::InputIndex(kInputs, "weight") + 1;' \
  'ReadAxis(ctx, 1, rank, op)' 'ParamOrFill(ctx, kBias + 1, dt)' 'for (uint32_t i : {1u, 2u})' \
  'for (const uint32_t i : {2, 3})' 'constexpr uint32_t kSelf = 0;' 'enum MhaInput : uint32_t {'; do
  n=$((n + 1))
  printf '%s\n' "$bad" >"$probes/bad$n"
done
for good in 'ctx.Input(kConvWeight)' 'ctx.OutputType(0)' 'ctx.SetOutput(0, y)' \
  'ctx.ListType(kCatTensors, 0)' 'ctx.ListVar(kIndices, k + 1)' 'ScalarLike(ctx, t.dtype, 0)' \
  'ctx.Int(in.dim)' 'for (uint32_t k = 0; k < n; ++k)' 'constexpr uint32_t kNoInput = 1u << 20;' \
  'constexpr int kEllipsisBase = 52;' 'for (int64_t d = 1; d < rank; ++d)' 'for (int v : {0, 1})'; do
  n=$((n + 1))
  printf '%s\n' "$good" >"$probes/good$n"
done
flagged=$(scan "$probes"/*)
for f in "$probes"/*; do
  case "$f:$(printf '%s\n' "$flagged" | grep -c "^$f:" || true)" in
    */bad*:0)
      echo "check_plugin_inputs: error: the pattern misses '$(cat "$f")'; fix the pattern" >&2
      exit 1
      ;;
    */good*:0) ;;
    */good*)
      echo "check_plugin_inputs: error: the pattern flags '$(cat "$f")'; fix the pattern" >&2
      exit 1
      ;;
  esac
done

# Source paths hold no spaces; one perl reads them all.
# shellcheck disable=SC2046
found=$(scan $(find "$dir" \( -name '*.cpp' -o -name '*.h' \) ! -name '*_test.cpp' -print | sort))
if [ -n "$found" ]; then
  printf '%s\n' "$found" >&2
  echo "check_plugin_inputs: error: the lines above read a node input by a literal position; declare 'constexpr uint32_t kName = sdk::InputIndex(kTable, \"name\");' beside the input table and read by that name" >&2
  exit 1
fi
echo "check_plugin_inputs: no literal input positions in $dir"
