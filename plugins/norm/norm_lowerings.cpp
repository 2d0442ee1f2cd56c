/// Built-in lowerings of normalizations. batch_norm keeps its statistics in the param dtype (FP32
/// on iOS17+ under FP16) through T2C_FP16_FP32_PARAMS; layer_norm computes in FP32 because its
/// variance overflows FP16 easily.
#include "norm/norm_lowerings.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

using sdk::Expected;
using sdk::LowerContext;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;

/// Input `i` as a var, or a constant filled with `fill` of `shape` in the param dtype when None.
Expected<Var> ParamOrFill(LowerContext& ctx, uint32_t i, const std::vector<int64_t>& shape,
                          float fill) {
  if (!ctx.IsNone(i)) return ctx.Input(i);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return ctx.ConstFloats(ctx.param_dtype(), std::vector<float>(static_cast<size_t>(n), fill),
                         shape);
}

/// aten::batch_norm(input, weight?, bias?, running_mean?, running_var?, training, momentum, eps,
/// cudnn_enabled) -> MIL batch_norm(x, mean, variance, gamma, beta, epsilon).
Status LowerBatchNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(bool training, ctx.Bool(5));
  if (ctx.IsNone(3) || ctx.IsNone(4)) {
    return ctx.Error(std::string("batch_norm: running statistics are missing (") +
                     (training ? "training=True, " : "") +
                     "track_running_stats=False?); batch statistics cannot be lowered for "
                     "inference");
  }
  if (training) {
    return ctx.Error(
        "batch_norm: training=True uses batch statistics; trace the model after "
        "model.eval()");
  }
  for (uint32_t i : {1u, 2u, 3u, 4u}) {
    if (!ctx.IsNone(i) && !ctx.IsConst(i)) {
      return ctx.Error("batch_norm: input " + std::to_string(i) +
                       " is a runtime value; MIL batch_norm needs constant parameters");
    }
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  if (out.rank() < 2 || out.rank() > 5) {
    return ctx.Error("batch_norm: input rank " + std::to_string(out.rank()) +
                     " is not supported (MIL batch_norm takes rank 3 to 5; rank 2 is reshaped)");
  }
  const int64_t channels = out.shape[1];
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(Var mean, ctx.Input(3));
  TS2COREML_ASSIGN_OR_RETURN(Var variance, ctx.Input(4));
  TS2COREML_ASSIGN_OR_RETURN(Var gamma, ParamOrFill(ctx, 1, {channels}, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var beta, ParamOrFill(ctx, 2, {channels}, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon, ctx.Input(7));
  TensorType bn_type = out;
  if (out.rank() == 2) {
    // [N, C] -> [N, C, 1]: MIL batch_norm needs a spatial dimension.
    bn_type.shape.push_back(1);
    TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({2}));
    TS2COREML_ASSIGN_OR_RETURN(x, ctx.Emit1("expand_dims", {{"x", x}, {"axes", axes}}, bn_type));
  }
  std::vector<sdk::Arg> args = {{"x", x},         {"mean", mean}, {"variance", variance},
                                {"gamma", gamma}, {"beta", beta}, {"epsilon", epsilon}};
  if (out.rank() != 2) return ctx.EmitOutput("batch_norm", args);
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("batch_norm", args, bn_type));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({2}));
  return ctx.EmitOutput("squeeze", {{"x", y}, {"axes", axes}});
}

/// aten::layer_norm(input, normalized_shape, weight?, bias?, eps, cudnn_enable)
/// -> MIL layer_norm(x, axes, gamma, beta, epsilon) over the trailing dimensions.
Status LowerLayerNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> normalized, ctx.Ints(1));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  const size_t k = normalized.size();
  if (k == 0 || k > out.shape.size() ||
      !std::equal(normalized.begin(), normalized.end(), out.shape.end() - k)) {
    return ctx.Error("layer_norm: normalized_shape " + FormatInts(normalized) +
                     " does not match the trailing dimensions of input " + FormatInts(out.shape));
  }
  for (uint32_t i : {2u, 3u}) {
    if (!ctx.IsNone(i) && !ctx.IsConst(i)) {
      return ctx.Error("layer_norm: input " + std::to_string(i) +
                       " is a runtime value; MIL layer_norm needs constant gamma and beta");
    }
  }
  std::vector<int64_t> axes;
  for (size_t i = out.shape.size() - k; i < out.shape.size(); ++i) {
    axes.push_back(static_cast<int64_t>(i));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(Var gamma, ParamOrFill(ctx, 2, normalized, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var beta, ParamOrFill(ctx, 3, normalized, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon, ctx.Input(4));
  return ctx.EmitOutput(
      "layer_norm",
      {{"x", x}, {"axes", axes_var}, {"gamma", gamma}, {"beta", beta}, {"epsilon", epsilon}});
}

constexpr const char* kBatchNormOps[] = {"aten::batch_norm"};
constexpr t2c_input_decl kBatchNormInputs[] = {
    sdk::Tensor("input"),
    sdk::Param("weight", T2C_INPUT_OPTIONAL),
    sdk::Param("bias", T2C_INPUT_OPTIONAL),
    sdk::Param("running_mean", T2C_INPUT_OPTIONAL),
    sdk::Param("running_var", T2C_INPUT_OPTIONAL),
    sdk::Host("training"),
    sdk::Ignored("momentum"),
    sdk::Param("eps"),
    sdk::Ignored("cudnn_enabled"),
};
constexpr const char* kLayerNormOps[] = {"aten::layer_norm"};
constexpr t2c_input_decl kLayerNormInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("normalized_shape"),
    sdk::Param("weight", T2C_INPUT_OPTIONAL),
    sdk::Param("bias", T2C_INPUT_OPTIONAL),
    sdk::Param("eps"),
    sdk::Ignored("cudnn_enable"),
};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("batch_norm", kBatchNormOps, kBatchNormInputs, T2C_FP16_FP32_PARAMS,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerBatchNorm>),
    sdk::Lowering("layer_norm", kLayerNormOps, kLayerNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerLayerNorm>),
};

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION,  sizeof(t2c_plugin_info),
    "ts2coreml.norm", "0.1.0",
    kLowerings,       static_cast<uint32_t>(sizeof(kLowerings) / sizeof(kLowerings[0]))};

}  // namespace

const t2c_plugin_info* NormPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
