/// nan_to_num: three selects on NaN (x != x), +inf and -inf, with PyTorch's defaults (0 and the
/// largest finite values of the planned dtype); integers pass through. cross: with a = self,
/// b = other along a dim of size 3, a x b = roll(a, -1) * roll(b, -2) - roll(a, -2) * roll(b, -1),
/// each roll a gather of constant indices.
#include "elementwise/parity_lowerings.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"

namespace ts2coreml::plugins::elementwise_parity {
namespace {

constexpr uint32_t kNtnSelf = sdk::InputIndex(kNanToNumInputs, "self");
constexpr uint32_t kNtnNan = sdk::InputIndex(kNanToNumInputs, "nan");
constexpr uint32_t kNtnPosinf = sdk::InputIndex(kNanToNumInputs, "posinf");
constexpr uint32_t kNtnNeginf = sdk::InputIndex(kNanToNumInputs, "neginf");

constexpr uint32_t kCrossSelf = sdk::InputIndex(kCrossInputs, "self");
constexpr uint32_t kCrossOther = sdk::InputIndex(kCrossInputs, "other");
constexpr uint32_t kCrossDim = sdk::InputIndex(kCrossInputs, "dim");

/// Input `i` as a float, or `fallback` when it is None.
Expected<double> FloatOr(const NodeView& ctx, uint32_t i, double fallback) {
  if (!Given(ctx, i)) return fallback;
  return ctx.Float(i);
}

/// y = select(mask(x, probe), value, y) where mask is `compare` ("equal"/"not_equal").
Expected<Var> Replace(LowerContext& ctx, Var x, Var y, const char* compare, float probe,
                      float value, const TensorType& t) {
  TS2COREML_ASSIGN_OR_RETURN(Var probe_var, ctx.ConstFloat(t.dtype, probe));
  TS2COREML_ASSIGN_OR_RETURN(
      Var mask, ctx.Emit1(compare, {{"x", x}, {"y", std::isnan(probe) ? x : probe_var}},
                          TensorType(T2C_DTYPE_BOOL, t.shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var value_var, ctx.ConstFloat(t.dtype, value));
  return ctx.Emit1("select", {{"cond", mask}, {"a", value_var}, {"b", y}}, t);
}

/// The dim cross products run along: `dim` normalized, or (cross without dim) the first dim of
/// size 3.
Expected<int64_t> CrossDim(const NodeView& ctx, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (Given(ctx, kCrossDim)) return ReadAxis(ctx, kCrossDim, rank, ctx.kind());
  if (ctx.kind() == "aten::linalg_cross") return rank - 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (shape[static_cast<size_t>(d)] == 3) return d;
  }
  return ctx.InvalidInputs(ctx.kind() + ": no dim of size 3 in " + FormatInts(shape));
}

/// The broadcast shape and the cross dim, checked to be of size 3 in both inputs.
Expected<std::pair<Shape, int64_t>> CrossPlan(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kCrossSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kCrossOther));
  Shape shape;
  if (a.rank() != b.rank() || !sdk::BroadcastShapes(a.shape, b.shape, &shape)) {
    return ctx.InvalidInputs(ctx.kind() + ": shapes " + FormatInts(a.shape) + " and " +
                             FormatInts(b.shape) + " must have one rank and broadcast");
  }
  if (shape.empty()) return ctx.InvalidInputs(ctx.kind() + ": 0-d inputs have no dim of size 3");
  TS2COREML_ASSIGN_OR_RETURN(int64_t d, CrossDim(ctx, a.shape));
  if (a.shape[static_cast<size_t>(d)] != 3 || b.shape[static_cast<size_t>(d)] != 3) {
    return ctx.InvalidInputs(ctx.kind() + ": dim " + std::to_string(d) + " of " +
                             FormatInts(a.shape) + " and " + FormatInts(b.shape) +
                             " must have size 3");
  }
  return std::make_pair(shape, d);
}

/// x rolled by -shift (x[(i + shift) % 3]) along `axis`, a gather of constant indices.
Expected<Var> Roll3(LowerContext& ctx, Var x, int64_t axis, int64_t shift) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var idx, ctx.ConstInts({shift % 3, (shift + 1) % 3, (shift + 2) % 3}));
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  return ctx.Emit1("gather", {{"x", x}, {"indices", idx}, {"axis", axis_var}}, t);
}

}  // namespace

sdk::Status InferNanToNum(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kNtnSelf));
  for (uint32_t i : {kNtnNan, kNtnPosinf, kNtnNeginf}) {
    if (Given(ctx, i)) TS2COREML_RETURN_IF_ERROR(ctx.Float(i).status());
  }
  return ctx.SetOutputType(0, x);
}

sdk::Status LowerNanToNum(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNtnSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.OutputType(0));
  if (t.dtype == T2C_DTYPE_INT32 || t.dtype == T2C_DTYPE_BOOL) {
    return ctx.EmitOutput("identity", {{"x", x}});
  }
  const double big = t.dtype == T2C_DTYPE_FP16 ? 65504.0 : std::numeric_limits<float>::max();
  TS2COREML_ASSIGN_OR_RETURN(double nan, FloatOr(ctx, kNtnNan, 0.0));
  TS2COREML_ASSIGN_OR_RETURN(double posinf, FloatOr(ctx, kNtnPosinf, big));
  TS2COREML_ASSIGN_OR_RETURN(double neginf, FloatOr(ctx, kNtnNeginf, -big));
  const float inf = std::numeric_limits<float>::infinity();
  TS2COREML_ASSIGN_OR_RETURN(
      Var y, Replace(ctx, x, x, "not_equal", std::nanf(""), static_cast<float>(nan), t));
  TS2COREML_ASSIGN_OR_RETURN(y, Replace(ctx, x, y, "equal", inf, static_cast<float>(posinf), t));
  TS2COREML_ASSIGN_OR_RETURN(y, Replace(ctx, x, y, "equal", -inf, static_cast<float>(neginf), t));
  return ctx.SetOutput(0, y);
}

sdk::Status InferCross(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, CrossPlan(ctx));
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kCrossSelf));
  return ctx.SetOutputType(0, TensorType(a.dtype, plan.first));
}

sdk::Status LowerCross(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(auto plan, CrossPlan(ctx));
  const int64_t d = plan.second;
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kCrossSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kCrossOther));
  TS2COREML_ASSIGN_OR_RETURN(Var a1, Roll3(ctx, a, d, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var a2, Roll3(ctx, a, d, 2));
  TS2COREML_ASSIGN_OR_RETURN(Var b1, Roll3(ctx, b, d, 1));
  TS2COREML_ASSIGN_OR_RETURN(Var b2, Roll3(ctx, b, d, 2));
  TS2COREML_ASSIGN_OR_RETURN(Var p, EmitBinary(ctx, "mul", a1, b2));
  TS2COREML_ASSIGN_OR_RETURN(Var q, EmitBinary(ctx, "mul", a2, b1));
  return ctx.EmitOutput("sub", {{"x", p}, {"y", q}});
}

}  // namespace ts2coreml::plugins::elementwise_parity
