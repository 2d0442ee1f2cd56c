/// native_layer_norm with its three outputs (see native_norm_lowerings.h).
#include "norm/native_norm_lowerings.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"

namespace ts2coreml::plugins::native_norm {
namespace {

constexpr uint32_t kInput = sdk::InputIndex(kNativeLayerNormInputs, "input");
constexpr uint32_t kShape = sdk::InputIndex(kNativeLayerNormInputs, "normalized_shape");
constexpr uint32_t kWeight = sdk::InputIndex(kNativeLayerNormInputs, "weight");
constexpr uint32_t kBias = sdk::InputIndex(kNativeLayerNormInputs, "bias");
constexpr uint32_t kEps = sdk::InputIndex(kNativeLayerNormInputs, "eps");

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

namespace {

constexpr uint32_t kGnInput = sdk::InputIndex(kNativeGroupNormInputs, "input");
constexpr uint32_t kGnWeight = sdk::InputIndex(kNativeGroupNormInputs, "weight");
constexpr uint32_t kGnBias = sdk::InputIndex(kNativeGroupNormInputs, "bias");
constexpr uint32_t kGnN = sdk::InputIndex(kNativeGroupNormInputs, "N");
constexpr uint32_t kGnC = sdk::InputIndex(kNativeGroupNormInputs, "C");
constexpr uint32_t kGnHxW = sdk::InputIndex(kNativeGroupNormInputs, "HxW");
constexpr uint32_t kGnGroup = sdk::InputIndex(kNativeGroupNormInputs, "group");
constexpr uint32_t kGnEps = sdk::InputIndex(kNativeGroupNormInputs, "eps");

/// The group count, checked: N, C, HxW must describe the input and C divide into groups.
Expected<int64_t> GroupPlan(const NodeView& ctx, const TensorType& x) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t n, ctx.Int(kGnN));
  TS2COREML_ASSIGN_OR_RETURN(int64_t c, ctx.Int(kGnC));
  TS2COREML_ASSIGN_OR_RETURN(int64_t hxw, ctx.Int(kGnHxW));
  TS2COREML_ASSIGN_OR_RETURN(int64_t g, ctx.Int(kGnGroup));
  int64_t spatial = 1;
  for (int64_t d = 2; d < x.rank(); ++d) spatial *= x.shape[d];
  if (x.rank() < 2 || x.shape[0] != n || x.shape[1] != c || spatial != hxw || g <= 0 ||
      c % g != 0) {
    return ctx.InvalidInputs("aten::native_group_norm: N " + std::to_string(n) + ", C " +
                             std::to_string(c) + ", HxW " + std::to_string(hxw) + ", group " +
                             std::to_string(g) + " do not describe input " + FormatInts(x.shape));
  }
  return g;
}

}  // namespace

sdk::Status InferNativeGroupNorm(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kGnInput));
  TS2COREML_ASSIGN_OR_RETURN(int64_t g, GroupPlan(ctx, x));
  TS2COREML_RETURN_IF_ERROR(ctx.Float(kGnEps).status());
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, x));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(1, TensorType(x.dtype, {x.shape[0], g})));
  return ctx.SetOutputType(2, TensorType(x.dtype, {x.shape[0], g}));
}

/// x as [N, group, C / group * HxW]: statistics over the last axis, normalized, reshaped back,
/// then weight and bias per channel (axis 1).
sdk::Status LowerNativeGroupNorm(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t g, GroupPlan(ctx, out));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kGnEps));
  const int64_t n = out.shape[0];
  int64_t per = 1;
  for (int64_t d = 1; d < out.rank(); ++d) per *= out.shape[d];
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kGnInput));
  TS2COREML_ASSIGN_OR_RETURN(Var grouped, EmitReshape(ctx, x, {n, g, per / g}));
  TS2COREML_ASSIGN_OR_RETURN(Var mean, EmitReduce(ctx, "reduce_mean", grouped, {2}, true));
  TS2COREML_ASSIGN_OR_RETURN(Var d, EmitBinary(ctx, "sub", grouped, mean));
  TS2COREML_ASSIGN_OR_RETURN(Var sq, EmitBinary(ctx, "mul", d, d));
  TS2COREML_ASSIGN_OR_RETURN(Var var, EmitReduce(ctx, "reduce_mean", sq, {2}, true));
  TS2COREML_ASSIGN_OR_RETURN(Var eps_var, ctx.ConstFloat(out.dtype, static_cast<float>(eps)));
  TS2COREML_ASSIGN_OR_RETURN(Var shifted, EmitBinary(ctx, "add", var, eps_var));
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(shifted));
  TS2COREML_ASSIGN_OR_RETURN(Var rstd, ctx.Emit1("rsqrt", {{"x", shifted}}, st));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitBinary(ctx, "mul", d, rstd));
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, out.shape));
  Shape per_channel(static_cast<size_t>(out.rank() - 1), 1);
  per_channel[0] = out.shape[1];
  for (uint32_t i : {kGnWeight, kGnBias}) {
    if (!Given(ctx, i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(Var p, ctx.Input(i));
    TS2COREML_ASSIGN_OR_RETURN(p, EmitReshape(ctx, p, per_channel));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, i == kGnWeight ? "mul" : "add", y, p));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var mean2, EmitReshape(ctx, mean, {n, g}));
  TS2COREML_ASSIGN_OR_RETURN(Var rstd2, EmitReshape(ctx, rstd, {n, g}));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(1, mean2));
  return ctx.SetOutput(2, rstd2);
}

}  // namespace ts2coreml::plugins::native_norm
