/// Built-in lowerings of activations. Each maps onto one MIL activation op, or a short sequence
/// where MIL has no direct equivalent (hardswish = x * sigmoid_hard(x), log_softmax =
/// x - reduce_log_sum_exp(x), softplus's threshold and the shrinks as selects).
#include "activation/activation_lowerings.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// TorchScript ScalarType codes that a softmax `dtype` argument may name (all float).
constexpr int64_t kScalarTypeHalf = 5;
constexpr int64_t kScalarTypeFloat = 6;
constexpr int64_t kScalarTypeDouble = 7;

/// Emits the single-input MIL op `mil_op` on input `self` as output 0.
Status EmitUnary(LowerContext& ctx, uint32_t self, const char* mil_op) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(self));
  return ctx.EmitOutput(mil_op, {{"x", x}});
}

constexpr t2c_input_decl kUnaryInputs[] = {sdk::Tensor("self")};
constexpr uint32_t kUnarySelf = sdk::InputIndex(kUnaryInputs, "self");

Status LowerRelu(LowerContext& ctx) { return EmitUnary(ctx, kUnarySelf, "relu"); }
Status LowerRelu6(LowerContext& ctx) { return EmitUnary(ctx, kUnarySelf, "relu6"); }
Status LowerSigmoid(LowerContext& ctx) { return EmitUnary(ctx, kUnarySelf, "sigmoid"); }
Status LowerTanh(LowerContext& ctx) { return EmitUnary(ctx, kUnarySelf, "tanh"); }
Status LowerSilu(LowerContext& ctx) { return EmitUnary(ctx, kUnarySelf, "silu"); }

/// Emits sigmoid_hard(x, alpha, beta) = clamp(alpha * x + beta, 0, 1) with the given type.
Expected<Var> EmitSigmoidHard(LowerContext& ctx, Var x, const TensorType& type, float alpha,
                              float beta) {
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.ConstFloat(type.dtype, alpha));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.ConstFloat(type.dtype, beta));
  return ctx.Emit1("sigmoid_hard", {{"x", x}, {"alpha", a}, {"beta", b}}, type);
}

/// hardsigmoid(x) = clamp(x / 6 + 1 / 2, 0, 1).
Status LowerHardsigmoid(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnarySelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitSigmoidHard(ctx, x, type, 1.0f / 6.0f, 0.5f));
  return ctx.SetOutput(0, y);
}

/// hardswish(x) = x * hardsigmoid(x). The iOS15 opset has no hard-swish op.
Status LowerHardswish(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnarySelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var gate, EmitSigmoidHard(ctx, x, type, 1.0f / 6.0f, 0.5f));
  return ctx.EmitOutput("mul", {{"x", x}, {"y", gate}});
}

constexpr t2c_input_decl kHardtanhInputs[] = {sdk::Tensor("self"), sdk::Host("min_val"),
                                              sdk::Host("max_val")};
constexpr uint32_t kHardtanhSelf = sdk::InputIndex(kHardtanhInputs, "self");
constexpr uint32_t kHardtanhMinVal = sdk::InputIndex(kHardtanhInputs, "min_val");
constexpr uint32_t kHardtanhMaxVal = sdk::InputIndex(kHardtanhInputs, "max_val");

/// hardtanh(x, min_val, max_val): relu6 for (0, 6) (nn.ReLU6 traces to it), else clip.
Status LowerHardtanh(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double lo, ctx.Float(kHardtanhMinVal));
  TS2COREML_ASSIGN_OR_RETURN(double hi, ctx.Float(kHardtanhMaxVal));
  if (lo > hi) {
    return ctx.Error("hardtanh: min_val " + FormatNumber(lo) + " exceeds max_val " +
                     FormatNumber(hi));
  }
  if (lo == 0.0 && hi == 6.0) return EmitUnary(ctx, kHardtanhSelf, "relu6");
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kHardtanhSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var alpha, ctx.ConstFloat(type.dtype, static_cast<float>(lo)));
  TS2COREML_ASSIGN_OR_RETURN(Var beta, ctx.ConstFloat(type.dtype, static_cast<float>(hi)));
  return ctx.EmitOutput("clip", {{"x", x}, {"alpha", alpha}, {"beta", beta}});
}

constexpr t2c_input_decl kLeakyReluInputs[] = {sdk::Tensor("self"), sdk::Host("negative_slope")};
constexpr uint32_t kLeakyReluSelf = sdk::InputIndex(kLeakyReluInputs, "self");
constexpr uint32_t kLeakyReluSlope = sdk::InputIndex(kLeakyReluInputs, "negative_slope");

/// leaky_relu(x, negative_slope) -> MIL leaky_relu(x, alpha).
Status LowerLeakyRelu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double slope, ctx.Float(kLeakyReluSlope));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLeakyReluSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var alpha, ctx.ConstFloat(type.dtype, static_cast<float>(slope)));
  return ctx.EmitOutput("leaky_relu", {{"x", x}, {"alpha", alpha}});
}

constexpr t2c_input_decl kGeluInputs[] = {sdk::Tensor("self"),
                                          sdk::Host("approximate", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kGeluSelf = sdk::InputIndex(kGeluInputs, "self");
constexpr uint32_t kGeluApproximate = sdk::InputIndex(kGeluInputs, "approximate");

/// gelu(x, approximate) -> MIL gelu with mode EXACT or TANH_APPROXIMATION.
Status LowerGelu(LowerContext& ctx) {
  std::string approximate = "none";
  if (ctx.num_inputs() > kGeluApproximate && !ctx.IsNone(kGeluApproximate)) {
    TS2COREML_ASSIGN_OR_RETURN(approximate, ctx.String(kGeluApproximate));
  }
  std::string mode;
  if (approximate == "none") {
    mode = "EXACT";
  } else if (approximate == "tanh") {
    mode = "TANH_APPROXIMATION";
  } else {
    return ctx.Error("gelu: approximate='" + approximate +
                     "' is not supported (expected 'none' or 'tanh')");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kGeluSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var m, ctx.ConstString(mode));
  return ctx.EmitOutput("gelu", {{"x", x}, {"mode", m}});
}

constexpr t2c_input_decl kSoftmaxInputs[] = {sdk::Tensor("self"), sdk::Host("dim"),
                                             sdk::Host("dtype", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kSoftmaxSelf = sdk::InputIndex(kSoftmaxInputs, "self");
constexpr uint32_t kSoftmaxDim = sdk::InputIndex(kSoftmaxInputs, "dim");
constexpr uint32_t kSoftmaxDtype = sdk::InputIndex(kSoftmaxInputs, "dtype");

/// softmax computes exp(x - max) along `dim`. Terms that FP16 flushes to zero (x - max below
/// -24 ln 2) weigh less than 6e-8 of the sum and change no probability by more than that; what
/// FP16 cannot do is resolve the exponent where the inputs it subtracts are large: once the range
/// max - min passes 2^11, inputs of that magnitude have an FP16 spacing of 1 or more, an e-fold
/// error in the probabilities they make. log_softmax keeps its logarithm of the smallest terms
/// only within 24 ln 2 (16.6). Calibration measures the range; without it both stay FP32.
constexpr t2c_fp16_limit kSoftmaxLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_EXP_RANGE, kSoftmaxSelf, 2048.0,
                   "the exponent range after the max subtraction (max - min along dim)",
                   T2C_FP16_AXES_DIMS, kSoftmaxDim)};
constexpr t2c_fp16_limit kLogSoftmaxLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_EXP_RANGE, kSoftmaxSelf, 16.6355,
                   "the exponent range after the max subtraction (max - min along dim)",
                   T2C_FP16_AXES_DIMS, kSoftmaxDim)};

/// Checks softmax's optional `dtype` argument: None or a float type. _softmax and _log_softmax
/// have `half_to_float` there instead (true only for fp16 CUDA inputs).
Status CheckSoftmaxDtype(const sdk::NodeView& ctx, const std::string& op) {
  if (ctx.kind().rfind("aten::_", 0) == 0) {
    TS2COREML_ASSIGN_OR_RETURN(bool half_to_float, ctx.Bool(kSoftmaxDtype));
    if (half_to_float) {
      return ctx.Error(ctx.kind() + ": half_to_float=True is CUDA-only; trace on the CPU");
    }
    return Status::Ok();
  }
  if (ctx.num_inputs() <= kSoftmaxDtype || ctx.IsNone(kSoftmaxDtype)) return Status::Ok();
  TS2COREML_ASSIGN_OR_RETURN(int64_t dtype, ctx.Int(kSoftmaxDtype));
  if (dtype != kScalarTypeHalf && dtype != kScalarTypeFloat && dtype != kScalarTypeDouble) {
    return ctx.Error(op + ": dtype (ScalarType " + std::to_string(dtype) +
                     ") is not supported; only None or a float type");
  }
  return Status::Ok();
}

/// softmax/log_softmax infer: the input's type, after checking dim and dtype.
Status InferSoftmaxLike(InferContext& ctx) {
  std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSoftmaxSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kSoftmaxDim, x.rank(), op));
  (void)axis;
  TS2COREML_RETURN_IF_ERROR(CheckSoftmaxDtype(ctx, op));
  x.dtype = T2C_DTYPE_FP32;
  return ctx.SetOutputType(0, x);
}

/// What softmax and log_softmax lower from: the input, its planned type and the normalized axis.
struct SoftmaxOperands {
  Var x;
  TensorType out;
  int64_t axis = 0;
};

Expected<SoftmaxOperands> ReadSoftmax(LowerContext& ctx, const std::string& op) {
  TS2COREML_RETURN_IF_ERROR(CheckSoftmaxDtype(ctx, op));
  SoftmaxOperands s;
  TS2COREML_ASSIGN_OR_RETURN(s.out, ctx.OutputType(0));
  if (s.out.rank() == 0) return ctx.Error(op + ": rank-0 input is not supported");
  TS2COREML_ASSIGN_OR_RETURN(s.axis, ReadAxis(ctx, kSoftmaxDim, s.out.rank(), op));
  TS2COREML_ASSIGN_OR_RETURN(s.x, ctx.Input(kSoftmaxSelf));
  return s;
}

Status LowerSoftmax(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SoftmaxOperands s, ReadSoftmax(ctx, "softmax"));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.ConstInt(s.axis));
  return ctx.EmitOutput("softmax", {{"x", s.x}, {"axis", a}});
}

/// log_softmax(x) = x - reduce_log_sum_exp(x, axis, keep_dims=true), stable in FP32.
Status LowerLogSoftmax(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(SoftmaxOperands s, ReadSoftmax(ctx, "log_softmax"));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({s.axis}));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(true));
  TensorType reduced = s.out;
  reduced.shape[s.axis] = 1;
  TS2COREML_ASSIGN_OR_RETURN(
      Var lse,
      ctx.Emit1("reduce_log_sum_exp", {{"x", s.x}, {"axes", axes}, {"keep_dims", keep}}, reduced));
  return ctx.EmitOutput("sub", {{"x", s.x}, {"y", lse}});
}

/// `op`(x, value): a comparison ("greater", ...) of x with a scalar in its dtype, giving bool.
Expected<Var> CompareScalar(LowerContext& ctx, const char* op, Var x, double value) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var c, ScalarLike(ctx, t.dtype, value));
  return ctx.Emit1(op, {{"x", x}, {"y", c}}, TensorType(T2C_DTYPE_BOOL, t.shape));
}

/// `op`(x, value) for an elementwise binary op with a scalar in x's dtype.
Expected<Var> BinaryScalar(LowerContext& ctx, const char* op, Var x, double value) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var c, ScalarLike(ctx, t.dtype, value));
  return EmitBinary(ctx, op, x, c);
}

/// A one-input MIL op keeping x's type.
Expected<Var> Unary(LowerContext& ctx, const char* op, Var x) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  return ctx.Emit1(op, {{"x", x}}, t);
}

/// select(cond, a, b), broadcasting to the node's output type.
Status SelectOutput(LowerContext& ctx, Var cond, Var a, Var b) {
  return ctx.EmitOutput("select", {{"cond", cond}, {"a", a}, {"b", b}});
}

/// x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1), ATen's elu. MIL elu covers
/// input_scale 1; other input scales (celu) take the select form.
Status EmitElu(LowerContext& ctx, Var x, double alpha, double scale, double input_scale) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  if (input_scale == 1.0) {
    TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.ConstFloat(type.dtype, static_cast<float>(alpha)));
    if (scale == 1.0) return ctx.EmitOutput("elu", {{"x", x}, {"alpha", a}});
    TS2COREML_ASSIGN_OR_RETURN(Var e, ctx.Emit1("elu", {{"x", x}, {"alpha", a}}, type));
    TS2COREML_ASSIGN_OR_RETURN(Var s, ctx.ConstFloat(type.dtype, static_cast<float>(scale)));
    return ctx.EmitOutput("mul", {{"x", e}, {"y", s}});
  }
  TS2COREML_ASSIGN_OR_RETURN(Var positive, BinaryScalar(ctx, "mul", x, scale));
  TS2COREML_ASSIGN_OR_RETURN(Var scaled, BinaryScalar(ctx, "mul", x, input_scale));
  TS2COREML_ASSIGN_OR_RETURN(Var e, Unary(ctx, "exp", scaled));
  TS2COREML_ASSIGN_OR_RETURN(Var em1, BinaryScalar(ctx, "sub", e, 1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var negative, BinaryScalar(ctx, "mul", em1, alpha * scale));
  TS2COREML_ASSIGN_OR_RETURN(Var cond, CompareScalar(ctx, "greater", x, 0.0));
  return SelectOutput(ctx, cond, positive, negative);
}

constexpr t2c_input_decl kEluInputs[] = {sdk::Tensor("self"), sdk::Host("alpha"),
                                         sdk::Host("scale"), sdk::Host("input_scale")};
constexpr uint32_t kEluSelf = sdk::InputIndex(kEluInputs, "self");
constexpr uint32_t kEluAlpha = sdk::InputIndex(kEluInputs, "alpha");
constexpr uint32_t kEluScale = sdk::InputIndex(kEluInputs, "scale");
constexpr uint32_t kEluInputScale = sdk::InputIndex(kEluInputs, "input_scale");

/// elu(x, alpha, scale, input_scale).
Status LowerElu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double alpha, ctx.Float(kEluAlpha));
  TS2COREML_ASSIGN_OR_RETURN(double scale, ctx.Float(kEluScale));
  TS2COREML_ASSIGN_OR_RETURN(double input_scale, ctx.Float(kEluInputScale));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kEluSelf));
  return EmitElu(ctx, x, alpha, scale, input_scale);
}

/// selu(x) = elu(x, alpha = 1.6732632423543772, scale = 1.0507009873554805).
Status LowerSelu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnarySelf));
  return EmitElu(ctx, x, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0);
}

constexpr t2c_input_decl kCeluInputs[] = {sdk::Tensor("self"), sdk::Host("alpha")};
constexpr uint32_t kCeluSelf = sdk::InputIndex(kCeluInputs, "self");
constexpr uint32_t kCeluAlpha = sdk::InputIndex(kCeluInputs, "alpha");

/// celu(x, alpha) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = elu(x, alpha, 1, 1 / alpha).
Status LowerCelu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double alpha, ctx.Float(kCeluAlpha));
  if (alpha == 0.0) return ctx.Error("celu: alpha 0 divides by zero; use an alpha other than 0");
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCeluSelf));
  return EmitElu(ctx, x, alpha, 1.0, 1.0 / alpha);
}

constexpr t2c_input_decl kSoftplusInputs[] = {sdk::Tensor("self"), sdk::Host("beta"),
                                              sdk::Host("threshold")};
constexpr uint32_t kSoftplusSelf = sdk::InputIndex(kSoftplusInputs, "self");
constexpr uint32_t kSoftplusBeta = sdk::InputIndex(kSoftplusInputs, "beta");
constexpr uint32_t kSoftplusThreshold = sdk::InputIndex(kSoftplusInputs, "threshold");

/// softplus(x, beta, threshold) = beta * x > threshold ? x : log(1 + exp(beta * x)) / beta.
Status LowerSoftplus(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double beta, ctx.Float(kSoftplusBeta));
  TS2COREML_ASSIGN_OR_RETURN(double threshold, ctx.Float(kSoftplusThreshold));
  if (beta == 0.0) return ctx.Error("softplus: beta 0 divides by zero; use a beta other than 0");
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSoftplusSelf));
  Var bx = x;
  if (beta != 1.0) {
    TS2COREML_ASSIGN_OR_RETURN(bx, BinaryScalar(ctx, "mul", x, beta));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var sp, Unary(ctx, "softplus", bx));
  if (beta != 1.0) {
    TS2COREML_ASSIGN_OR_RETURN(sp, BinaryScalar(ctx, "real_div", sp, beta));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var linear, CompareScalar(ctx, "greater", bx, threshold));
  return SelectOutput(ctx, linear, x, sp);
}

/// mish(x) = x * tanh(softplus(x)).
Status LowerMish(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnarySelf));
  TS2COREML_ASSIGN_OR_RETURN(Var sp, Unary(ctx, "softplus", x));
  TS2COREML_ASSIGN_OR_RETURN(Var t, Unary(ctx, "tanh", sp));
  return ctx.EmitOutput("mul", {{"x", x}, {"y", t}});
}

/// log_sigmoid(x) = -softplus(-x).
Status LowerLogSigmoid(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnarySelf));
  TS2COREML_ASSIGN_OR_RETURN(Var neg, BinaryScalar(ctx, "mul", x, -1.0));
  TS2COREML_ASSIGN_OR_RETURN(Var sp, Unary(ctx, "softplus", neg));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var m1, ctx.ConstFloat(type.dtype, -1.0f));
  return ctx.EmitOutput("mul", {{"x", sp}, {"y", m1}});
}

constexpr t2c_input_decl kPreluInputs[] = {sdk::Tensor("self"), sdk::Param("weight")};
constexpr uint32_t kPreluSelf = sdk::InputIndex(kPreluInputs, "self");
constexpr uint32_t kPreluWeight = sdk::InputIndex(kPreluInputs, "weight");

/// The shape prelu's weight [C] takes to broadcast against an input of `x_shape` (channels on
/// dim 1; a single weight broadcasts everywhere).
Expected<std::vector<int64_t>> PreluWeightShape(const sdk::NodeView& ctx,
                                                const std::vector<int64_t>& x_shape, int64_t c) {
  const int64_t rank = static_cast<int64_t>(x_shape.size());
  const int64_t channels = rank >= 2 ? x_shape[1] : 1;
  if (c != 1 && c != channels) {
    return ctx.InvalidInputs("prelu: " + std::to_string(c) +
                             " weights do not match the input's channels " +
                             std::to_string(channels) + " (dim 1 of " + FormatInts(x_shape) + ")");
  }
  if (rank < 2) return std::vector<int64_t>(static_cast<size_t>(rank), 1);
  std::vector<int64_t> shape(static_cast<size_t>(rank - 1), 1);
  shape[0] = c;
  return shape;
}

Status InferPrelu(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kPreluSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType w, ctx.InputType(kPreluWeight));
  if (w.rank() > 1)
    return ctx.InvalidInputs("prelu: weight must be 1-D, got " + FormatInts(w.shape));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                             PreluWeightShape(ctx, x.shape, w.rank() == 0 ? 1 : w.shape[0]));
  (void)shape;
  return ctx.SetOutputType(0, x);
}

/// prelu(x, w) = x >= 0 ? x : w * x, w broadcast along the channel dim 1.
Status LowerPrelu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kPreluSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.Input(kPreluWeight));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType wt, ctx.TypeOf(w));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                             PreluWeightShape(ctx, xt.shape, wt.rank() == 0 ? 1 : wt.shape[0]));
  TS2COREML_ASSIGN_OR_RETURN(Var wb, EmitReshape(ctx, w, shape));
  TS2COREML_ASSIGN_OR_RETURN(Var scaled, EmitBinary(ctx, "mul", x, wb));
  TS2COREML_ASSIGN_OR_RETURN(Var cond, CompareScalar(ctx, "greater_equal", x, 0.0));
  return SelectOutput(ctx, cond, x, scaled);
}

constexpr t2c_input_decl kRreluInputs[] = {sdk::Tensor("self"), sdk::Host("lower"),
                                           sdk::Host("upper"), sdk::Host("training"),
                                           sdk::Ignored("generator")};
constexpr uint32_t kRreluSelf = sdk::InputIndex(kRreluInputs, "self");
constexpr uint32_t kRreluLower = sdk::InputIndex(kRreluInputs, "lower");
constexpr uint32_t kRreluUpper = sdk::InputIndex(kRreluInputs, "upper");
constexpr uint32_t kRreluTraining = sdk::InputIndex(kRreluInputs, "training");

/// rrelu in eval mode: leaky_relu with slope (lower + upper) / 2. Training mode draws random
/// slopes, which a Core ML model cannot reproduce.
Status LowerRrelu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double lower, ctx.Float(kRreluLower));
  TS2COREML_ASSIGN_OR_RETURN(double upper, ctx.Float(kRreluUpper));
  TS2COREML_ASSIGN_OR_RETURN(bool training, ctx.Bool(kRreluTraining));
  if (training) {
    return ctx.Error("rrelu: training=True draws random slopes; export the model in eval mode");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kRreluSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var alpha,
                             ctx.ConstFloat(type.dtype, static_cast<float>((lower + upper) / 2)));
  return ctx.EmitOutput("leaky_relu", {{"x", x}, {"alpha", alpha}});
}

constexpr t2c_input_decl kGluInputs[] = {sdk::Tensor("self"), sdk::Host("dim")};
constexpr uint32_t kGluSelf = sdk::InputIndex(kGluInputs, "self");
constexpr uint32_t kGluDim = sdk::InputIndex(kGluInputs, "dim");

/// glu's input type with the halved dimension halved, and that dimension.
Expected<std::pair<TensorType, int64_t>> GluHalf(const sdk::NodeView& ctx, TensorType x) {
  if (x.rank() == 0) return ctx.InvalidInputs("glu: a rank-0 input cannot be halved");
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kGluDim, x.rank(), "glu"));
  if (x.shape[axis] % 2 != 0) {
    return ctx.InvalidInputs("glu: dim " + std::to_string(axis) + " of " + FormatInts(x.shape) +
                             " must have an even size");
  }
  x.shape[axis] /= 2;
  return std::make_pair(x, axis);
}

Status InferGlu(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kGluSelf));
  TS2COREML_ASSIGN_OR_RETURN(auto half, GluHalf(ctx, x));
  return ctx.SetOutputType(0, half.first);
}

/// glu(x, dim) = a * sigmoid(b), with a and b the two halves of x along dim.
Status LowerGlu(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kGluSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(auto half, GluHalf(ctx, xt));
  TS2COREML_ASSIGN_OR_RETURN(Var n, ctx.ConstInt(2));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(half.second));
  TS2COREML_ASSIGN_OR_RETURN(
      std::vector<Var> parts,
      ctx.Emit("split", {{"x", x}, {"num_splits", n}, {"axis", axis}}, {half.first, half.first}));
  TS2COREML_ASSIGN_OR_RETURN(Var gate, Unary(ctx, "sigmoid", parts[1]));
  return ctx.EmitOutput("mul", {{"x", parts[0]}, {"y", gate}});
}

constexpr t2c_input_decl kShrinkInputs[] = {sdk::Tensor("self"), sdk::Host("lambd")};
constexpr uint32_t kShrinkSelf = sdk::InputIndex(kShrinkInputs, "self");
constexpr uint32_t kShrinkLambd = sdk::InputIndex(kShrinkInputs, "lambd");

/// hardshrink(x, lambd) = |x| > lambd ? x : 0.
Status LowerHardshrink(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double lambd, ctx.Float(kShrinkLambd));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kShrinkSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var a, Unary(ctx, "abs", x));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, CompareScalar(ctx, "greater", a, lambd));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(type.dtype, 0.0f));
  return SelectOutput(ctx, keep, x, zero);
}

/// softshrink(x, lambd) = x - clip(x, -lambd, lambd): x -+ lambd outside [-lambd, lambd], else 0.
Status LowerSoftshrink(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double lambd, ctx.Float(kShrinkLambd));
  if (lambd < 0) {
    return ctx.Error("softshrink: lambd " + FormatNumber(lambd) + " must be at least 0");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kShrinkSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var lo, ctx.ConstFloat(type.dtype, static_cast<float>(-lambd)));
  TS2COREML_ASSIGN_OR_RETURN(Var hi, ctx.ConstFloat(type.dtype, static_cast<float>(lambd)));
  TS2COREML_ASSIGN_OR_RETURN(Var c,
                             ctx.Emit1("clip", {{"x", x}, {"alpha", lo}, {"beta", hi}}, type));
  return ctx.EmitOutput("sub", {{"x", x}, {"y", c}});
}

constexpr t2c_input_decl kThresholdInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                               sdk::Host("threshold"), sdk::Host("value")};
constexpr uint32_t kThresholdSelf = sdk::InputIndex(kThresholdInputs, "self");
constexpr uint32_t kThresholdThreshold = sdk::InputIndex(kThresholdInputs, "threshold");
constexpr uint32_t kThresholdValue = sdk::InputIndex(kThresholdInputs, "value");

/// threshold(x, threshold, value) = x > threshold ? x : value (int tensors take the numbers
/// truncated to ints, as ATen converts them to the tensor's type).
Status LowerThreshold(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(double threshold, ctx.Float(kThresholdThreshold));
  TS2COREML_ASSIGN_OR_RETURN(double value, ctx.Float(kThresholdValue));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kThresholdSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  if (type.dtype == T2C_DTYPE_INT32) {
    threshold = std::trunc(threshold);
    value = std::trunc(value);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var keep, CompareScalar(ctx, "greater", x, threshold));
  TS2COREML_ASSIGN_OR_RETURN(Var v, ScalarLike(ctx, type.dtype, value));
  return SelectOutput(ctx, keep, x, v);
}

constexpr t2c_input_decl kLogitInputs[] = {sdk::Tensor("self"),
                                           sdk::Host("eps", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kLogitSelf = sdk::InputIndex(kLogitInputs, "self");
constexpr uint32_t kLogitEps = sdk::InputIndex(kLogitInputs, "eps");

/// logit(x, eps) = log(z / (1 - z)), z = clamp(x, eps, 1 - eps) when eps is given, else x.
Status LowerLogit(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLogitSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType type, ctx.OutputType(0));
  Var z = x;
  if (ctx.num_inputs() > kLogitEps && !ctx.IsNone(kLogitEps)) {
    TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kLogitEps));
    if (eps < 0 || eps > 0.5) {
      return ctx.Error("logit: eps " + FormatNumber(eps) + " is outside [0, 0.5]");
    }
    TS2COREML_ASSIGN_OR_RETURN(Var lo, ctx.ConstFloat(type.dtype, static_cast<float>(eps)));
    TS2COREML_ASSIGN_OR_RETURN(Var hi, ctx.ConstFloat(type.dtype, static_cast<float>(1 - eps)));
    TS2COREML_ASSIGN_OR_RETURN(z, ctx.Emit1("clip", {{"x", x}, {"alpha", lo}, {"beta", hi}}, type));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstFloat(type.dtype, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var rest, ctx.Emit1("sub", {{"x", one}, {"y", z}}, type));
  TS2COREML_ASSIGN_OR_RETURN(Var ratio, EmitBinary(ctx, "real_div", z, rest));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(type.dtype, 0.0f));
  return ctx.EmitOutput("log", {{"x", ratio}, {"epsilon", zero}});
}

constexpr const char* kReluOps[] = {"aten::relu"};
constexpr const char* kRelu6Ops[] = {"aten::relu6"};
constexpr const char* kSigmoidOps[] = {"aten::sigmoid"};
constexpr const char* kTanhOps[] = {"aten::tanh"};
constexpr const char* kSiluOps[] = {"aten::silu"};
constexpr const char* kHardsigmoidOps[] = {"aten::hardsigmoid"};
constexpr const char* kHardswishOps[] = {"aten::hardswish"};
constexpr const char* kHardtanhOps[] = {"aten::hardtanh"};
constexpr const char* kLeakyReluOps[] = {"aten::leaky_relu"};
constexpr const char* kGeluOps[] = {"aten::gelu"};
constexpr const char* kSoftmaxOps[] = {"aten::softmax.int", "aten::_softmax"};
constexpr const char* kLogSoftmaxOps[] = {"aten::log_softmax.int", "aten::_log_softmax"};

constexpr const char* kEluOps[] = {"aten::elu"};
constexpr const char* kSeluOps[] = {"aten::selu"};
constexpr const char* kCeluOps[] = {"aten::celu"};
constexpr const char* kSoftplusOps[] = {"aten::softplus"};
constexpr const char* kMishOps[] = {"aten::mish"};
constexpr const char* kLogSigmoidOps[] = {"aten::log_sigmoid"};
constexpr const char* kPreluOps[] = {"aten::prelu"};
constexpr const char* kRreluOps[] = {"aten::rrelu"};
constexpr const char* kGluOps[] = {"aten::glu"};
constexpr const char* kHardshrinkOps[] = {"aten::hardshrink"};
constexpr const char* kSoftshrinkOps[] = {"aten::softshrink"};
constexpr const char* kThresholdOps[] = {"aten::threshold"};
constexpr const char* kLogitOps[] = {"aten::logit"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("relu", kReluOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerRelu>),
    sdk::Lowering("relu6", kRelu6Ops, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerRelu6>),
    sdk::Lowering("sigmoid", kSigmoidOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerSigmoid>),
    sdk::Lowering("tanh", kTanhOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerTanh>),
    sdk::Lowering("silu", kSiluOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerSilu>),
    sdk::Lowering("hardsigmoid", kHardsigmoidOps, kUnaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerHardsigmoid>),
    sdk::Lowering("hardswish", kHardswishOps, kUnaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerHardswish>),
    sdk::Lowering("hardtanh", kHardtanhOps, kHardtanhInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerHardtanh>),
    sdk::Lowering("leaky_relu", kLeakyReluOps, kLeakyReluInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerLeakyRelu>),
    sdk::Lowering("gelu", kGeluOps, kGeluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerGelu>),
    sdk::WithFp16Limits(
        sdk::Lowering("softmax", kSoftmaxOps, kSoftmaxInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferSoftmaxLike>, sdk::LowerFn<LowerSoftmax>),
        kSoftmaxLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("log_softmax", kLogSoftmaxOps, kSoftmaxInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferSoftmaxLike>,
                      sdk::LowerFn<LowerLogSoftmax>),
        kLogSoftmaxLimits),
    sdk::Lowering("elu", kEluOps, kEluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerElu>),
    sdk::Lowering("selu", kSeluOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerSelu>),
    sdk::Lowering("celu", kCeluOps, kCeluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
                  sdk::LowerFn<LowerCelu>),
    sdk::Lowering("softplus", kSoftplusOps, kSoftplusInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerSoftplus>),
    sdk::Lowering("mish", kMishOps, kUnaryInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerMish>),
    sdk::Lowering("log_sigmoid", kLogSigmoidOps, kUnaryInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerLogSigmoid>),
    sdk::Lowering("prelu", kPreluOps, kPreluInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPrelu>, sdk::LowerFn<LowerPrelu>),
    sdk::Lowering("rrelu", kRreluOps, kRreluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                  nullptr, sdk::LowerFn<LowerRrelu>),
    sdk::Lowering("glu", kGluOps, kGluInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferGlu>, sdk::LowerFn<LowerGlu>),
    sdk::Lowering("hardshrink", kHardshrinkOps, kShrinkInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerHardshrink>),
    sdk::Lowering("softshrink", kSoftshrinkOps, kShrinkInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerSoftshrink>),
    sdk::Lowering("threshold", kThresholdOps, kThresholdInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerThreshold>),
    // z / (1 - z) near 0 or 1 loses everything in FP16.
    sdk::Lowering("logit", kLogitOps, kLogitInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerLogit>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.activation", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ActivationPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
