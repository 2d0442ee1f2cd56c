/// native_layer_norm with its three outputs (see native_norm_lowerings.h).
#include "norm/native_norm_lowerings.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"

namespace ts2coreml::plugins::native_norm {
namespace {

using sdk::Expected;
using sdk::NodeView;
using sdk::TensorType;
using sdk::Var;
using Shape = std::vector<int64_t>;

constexpr uint32_t kInput = sdk::InputIndex(kNativeLayerNormInputs, "input");
constexpr uint32_t kShape = sdk::InputIndex(kNativeLayerNormInputs, "normalized_shape");
constexpr uint32_t kWeight = sdk::InputIndex(kNativeLayerNormInputs, "weight");
constexpr uint32_t kBias = sdk::InputIndex(kNativeLayerNormInputs, "bias");
constexpr uint32_t kEps = sdk::InputIndex(kNativeLayerNormInputs, "eps");

bool Given(const NodeView& ctx, uint32_t i) { return ctx.num_inputs() > i && !ctx.IsNone(i); }

/// The normalized (trailing) axes, checked against the input and the weight and bias shapes.
Expected<Shape> NormAxes(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(Shape normalized, ctx.Ints(kShape));
  const int64_t k = static_cast<int64_t>(normalized.size());
  if (k == 0 || k > x.rank() ||
      !std::equal(normalized.begin(), normalized.end(), x.shape.end() - k)) {
    return ctx.InvalidInputs("aten::native_layer_norm: normalized_shape " + FormatInts(normalized) +
                             " does not match the trailing dims of input " + FormatInts(x.shape));
  }
  for (uint32_t i : {kWeight, kBias}) {
    if (!Given(ctx, i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(i));
    if (t.shape != normalized) {
      return ctx.InvalidInputs("aten::native_layer_norm: weight and bias " + FormatInts(t.shape) +
                               " must have the normalized shape " + FormatInts(normalized));
    }
  }
  Shape axes;
  for (int64_t d = x.rank() - k; d < x.rank(); ++d) axes.push_back(d);
  return axes;
}

}  // namespace

sdk::Status InferNativeLayerNorm(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kInput));
  TS2COREML_ASSIGN_OR_RETURN(Shape axes, NormAxes(ctx, x));
  TS2COREML_RETURN_IF_ERROR(ctx.Float(kEps).status());
  TensorType stats = x;
  for (int64_t a : axes) stats.shape[a] = 1;
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, x));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(1, stats));
  return ctx.SetOutputType(2, stats);
}

/// mean and var (biased) over the axes; rstd = rsqrt(var + eps); out = (x - mean) * rstd,
/// times weight plus bias when given.
sdk::Status LowerNativeLayerNorm(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Shape axes, NormAxes(ctx, out));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kEps));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInput));
  TS2COREML_ASSIGN_OR_RETURN(Var mean, EmitReduce(ctx, "reduce_mean", x, axes, true));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", x, mean));
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
  TS2COREML_ASSIGN_OR_RETURN(Var var, EmitReduce(ctx, "reduce_mean", sq, axes, true));
  TS2COREML_ASSIGN_OR_RETURN(Var eps_var, ctx.ConstFloat(out.dtype, static_cast<float>(eps)));
  TS2COREML_ASSIGN_OR_RETURN(Var shifted, EmitBinary(ctx, "add", var, eps_var));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(shifted));
  TS2COREML_ASSIGN_OR_RETURN(Var rstd, ctx.Emit1("rsqrt", {{"x", shifted}}, st));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitBinary(ctx, "mul", d, rstd));
  if (Given(ctx, kWeight)) {
    TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.Input(kWeight));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "mul", y, w));
  }
  if (Given(ctx, kBias)) {
    TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kBias));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "add", y, b));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(1, mean));
  return ctx.SetOutput(2, rstd);
}

}  // namespace ts2coreml::plugins::native_norm
