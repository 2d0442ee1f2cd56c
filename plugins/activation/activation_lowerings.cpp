/// Built-in lowerings of activations. Each maps onto one MIL activation op, or a short sequence
/// where MIL has no direct equivalent (hardswish = x * sigmoid_hard(x), log_softmax =
/// x - reduce_log_sum_exp(x)).
#include "activation/activation_lowerings.h"

#include <string>

#include "common/lowering_util.h"
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

/// Checks softmax's optional `dtype` argument: None or a float type.
Status CheckSoftmaxDtype(const sdk::NodeView& ctx, const std::string& op) {
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
constexpr const char* kSoftmaxOps[] = {"aten::softmax.int"};
constexpr const char* kLogSoftmaxOps[] = {"aten::log_softmax.int"};

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
    sdk::Lowering("softmax", kSoftmaxOps, kSoftmaxInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferSoftmaxLike>, sdk::LowerFn<LowerSoftmax>),
    sdk::Lowering("log_softmax", kLogSoftmaxOps, kSoftmaxInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferSoftmaxLike>, sdk::LowerFn<LowerLogSoftmax>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.activation", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ActivationPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
