/// Built-in lowering of aten::linear: MIL linear when the weight is a constant (the MIL op needs
/// one), else matmul with transpose_y plus an add of the bias.
#include "linear/linear_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

constexpr t2c_input_decl kLinearInputs[] = {sdk::Tensor("input"), sdk::Tensor("weight"),
                                            sdk::OptionalTensor("bias")};
constexpr uint32_t kLinearInput = sdk::InputIndex(kLinearInputs, "input");
constexpr uint32_t kLinearWeight = sdk::InputIndex(kLinearInputs, "weight");
constexpr uint32_t kLinearBias = sdk::InputIndex(kLinearInputs, "bias");

/// input [*, in], weight [out, in], bias [out] -> [*, out].
Status InferLinear(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kLinearInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType w, ctx.InputType(kLinearWeight));
  if (x.rank() < 1) return ctx.Error("linear: input must have rank >= 1");
  if (w.rank() != 2) {
    return ctx.Error("linear: weight rank " + std::to_string(w.rank()) +
                     " is not supported (expected [out_features, in_features])");
  }
  if (x.shape.back() != w.shape[1]) {
    return ctx.InvalidInputs("linear: input features " + std::to_string(x.shape.back()) +
                             " do not match weight " + FormatInts(w.shape));
  }
  if (!ctx.IsNone(kLinearBias)) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kLinearBias));
    if (!(b.rank() == 1 && b.shape[0] == w.shape[0]) && b.rank() != 0) {
      return ctx.InvalidInputs("linear: bias " + FormatInts(b.shape) + " does not match " +
                               std::to_string(w.shape[0]) + " output features");
    }
  }
  TensorType out(T2C_DTYPE_FP32, x.shape);
  out.shape.back() = w.shape[0];
  return ctx.SetOutputType(0, out);
}

Status LowerLinear(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLinearInput));
  TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.Input(kLinearWeight));
  const bool has_bias = !ctx.IsNone(kLinearBias);
  const int64_t out_features = out.shape.back();
  bool bias_in_op = false;
  Var y;
  if (ctx.IsConst(kLinearWeight)) {
    // MIL linear: constant weight [out, in] and bias [out] (explicit zeros when absent).
    Var bias;
    if (has_bias && ctx.IsConst(kLinearBias)) {
      TS2COREML_ASSIGN_OR_RETURN(TensorType bt, ctx.InputType(kLinearBias));
      if (bt.rank() == 1) {
        TS2COREML_ASSIGN_OR_RETURN(bias, ctx.Input(kLinearBias));
        bias_in_op = true;
      }
    }
    if (!bias_in_op) {
      TS2COREML_ASSIGN_OR_RETURN(
          bias, ctx.ConstFloats(out.dtype, std::vector<float>(out_features, 0.0f), {out_features}));
    }
    if (!has_bias || bias_in_op)
      return ctx.EmitOutput("linear", {{"x", x}, {"weight", w}, {"bias", bias}});
    TS2COREML_ASSIGN_OR_RETURN(y,
                               ctx.Emit1("linear", {{"x", x}, {"weight", w}, {"bias", bias}}, out));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(Var tx, ctx.ConstBool(false));
    TS2COREML_ASSIGN_OR_RETURN(Var ty, ctx.ConstBool(true));
    std::vector<sdk::Arg> args = {{"x", x}, {"y", w}, {"transpose_x", tx}, {"transpose_y", ty}};
    if (!has_bias) return ctx.EmitOutput("matmul", args);
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("matmul", args, out));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kLinearBias));
  return ctx.EmitOutput("add", {{"x", y}, {"y", b}});
}

constexpr const char* kLinearOps[] = {"aten::linear"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("linear", kLinearOps, kLinearInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferLinear>, sdk::LowerFn<LowerLinear>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.linear", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* LinearPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
