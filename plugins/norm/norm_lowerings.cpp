/// Built-in lowerings of normalizations. batch_norm keeps its statistics in the param dtype (FP32
/// on iOS17+ under FP16) through T2C_FP16_FP32_PARAMS; layer_norm, group_norm and instance_norm
/// compute in FP32 because their variance overflows FP16 easily.
#include "norm/norm_lowerings.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "norm/batch_norm_backward_lowering.h"
#include "norm/native_norm_lowerings.h"
#include "norm/weight_norm_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// Input `i` as a var, or a constant filled with `fill` of `shape` in the param dtype when None.
Expected<Var> ParamOrFill(LowerContext& ctx, uint32_t i, const std::vector<int64_t>& shape,
                          float fill) {
  if (!ctx.IsNone(i)) return ctx.Input(i);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return ctx.ConstFloats(ctx.param_dtype(), std::vector<float>(static_cast<size_t>(n), fill),
                         shape);
}

/// Where batch_norm and instance_norm keep their per-channel parameters.
struct StatsInputs {
  uint32_t weight, bias, running_mean, running_var;
};

template <size_t N>
constexpr StatsInputs StatsInputsOf(const t2c_input_decl (&inputs)[N]) {
  return {sdk::InputIndex(inputs, "weight"), sdk::InputIndex(inputs, "bias"),
          sdk::InputIndex(inputs, "running_mean"), sdk::InputIndex(inputs, "running_var")};
}

/// Fails unless each given statistic and affine parameter is a constant, as MIL batch_norm
/// needs; `op` and `what` name the op and its parameters in the message.
Status CheckConstantStats(const LowerContext& ctx, const StatsInputs& in, const char* op,
                          const char* what) {
  for (uint32_t i : {in.weight, in.bias, in.running_mean, in.running_var}) {
    if (!ctx.IsNone(i) && !ctx.IsConst(i)) {
      return ctx.Error(std::string(op) + ": input " + std::to_string(i) +
                       " is a runtime value; MIL batch_norm needs constant " + what);
    }
  }
  return Status::Ok();
}

/// MIL batch_norm's mean, variance, gamma and beta.
struct Stats {
  Var mean, variance, gamma, beta;
};

/// Reads the statistics and affine parameters over `channels`; a missing gamma is ones and a
/// missing beta zeros.
Expected<Stats> ReadStats(LowerContext& ctx, const StatsInputs& in, int64_t channels) {
  Stats s;
  TS2COREML_ASSIGN_OR_RETURN(s.mean, ctx.Input(in.running_mean));
  TS2COREML_ASSIGN_OR_RETURN(s.variance, ctx.Input(in.running_var));
  TS2COREML_ASSIGN_OR_RETURN(s.gamma, ParamOrFill(ctx, in.weight, {channels}, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(s.beta, ParamOrFill(ctx, in.bias, {channels}, 0.0f));
  return s;
}

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
constexpr uint32_t kBatchNormInput = sdk::InputIndex(kBatchNormInputs, "input");
constexpr StatsInputs kBatchNormStats = StatsInputsOf(kBatchNormInputs);
constexpr uint32_t kBatchNormTraining = sdk::InputIndex(kBatchNormInputs, "training");
constexpr uint32_t kBatchNormEps = sdk::InputIndex(kBatchNormInputs, "eps");

constexpr t2c_input_decl kLayerNormInputs[] = {
    sdk::Tensor("input"),
    sdk::Host("normalized_shape"),
    sdk::Param("weight", T2C_INPUT_OPTIONAL),
    sdk::Param("bias", T2C_INPUT_OPTIONAL),
    sdk::Param("eps"),
    sdk::Ignored("cudnn_enable"),
};
constexpr uint32_t kLayerNormInput = sdk::InputIndex(kLayerNormInputs, "input");
constexpr uint32_t kLayerNormShape = sdk::InputIndex(kLayerNormInputs, "normalized_shape");
constexpr uint32_t kLayerNormWeight = sdk::InputIndex(kLayerNormInputs, "weight");
constexpr uint32_t kLayerNormBias = sdk::InputIndex(kLayerNormInputs, "bias");
constexpr uint32_t kLayerNormEps = sdk::InputIndex(kLayerNormInputs, "eps");

/// The variance layer_norm computes sums (x - mean)^2 over the normalized dims: in FP16 that sum
/// must stay within FP16's range (65504). Calibration measures it; without calibration the op
/// stays FP32.
constexpr t2c_fp16_limit kLayerNormLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_CENTERED_SQUARES, kLayerNormInput, 65504.0,
                   "the sum of squares of (input - mean) over normalized_shape",
                   T2C_FP16_AXES_TRAILING, kLayerNormShape)};

/// aten::layer_norm(input, normalized_shape, weight?, bias?, eps, cudnn_enable)
/// -> MIL layer_norm(x, axes, gamma, beta, epsilon) over the trailing dimensions.
Status LowerLayerNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> normalized, ctx.Ints(kLayerNormShape));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  const size_t k = normalized.size();
  if (k == 0 || k > out.shape.size() ||
      !std::equal(normalized.begin(), normalized.end(), out.shape.end() - k)) {
    return ctx.Error("layer_norm: normalized_shape " + FormatInts(normalized) +
                     " does not match the trailing dimensions of input " + FormatInts(out.shape));
  }
  for (uint32_t i : {kLayerNormWeight, kLayerNormBias}) {
    if (!ctx.IsNone(i) && !ctx.IsConst(i)) {
      return ctx.Error("layer_norm: input " + std::to_string(i) +
                       " is a runtime value; MIL layer_norm needs constant gamma and beta");
    }
  }
  std::vector<int64_t> axes;
  for (size_t i = out.shape.size() - k; i < out.shape.size(); ++i) {
    axes.push_back(static_cast<int64_t>(i));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kLayerNormInput));
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(Var gamma, ParamOrFill(ctx, kLayerNormWeight, normalized, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var beta, ParamOrFill(ctx, kLayerNormBias, normalized, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon, ctx.Input(kLayerNormEps));
  return ctx.EmitOutput(
      "layer_norm",
      {{"x", x}, {"axes", axes_var}, {"gamma", gamma}, {"beta", beta}, {"epsilon", epsilon}});
}

/// Multiplies by `weight` and adds `bias` (inputs, each optional, of shape [C]) along axis 1 of
/// `x`, as ATen applies the affine part of group_norm and instance_norm.
Expected<Var> EmitChannelAffine(LowerContext& ctx, Var x, uint32_t weight, uint32_t bias) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<int64_t> per_channel(static_cast<size_t>(t.rank() - 1), 1);
  per_channel[0] = t.shape[1];
  for (uint32_t i : {weight, bias}) {
    if (ctx.IsNone(i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(TensorType pt, ctx.InputType(i));
    if (pt.shape != std::vector<int64_t>{t.shape[1]}) {
      return ctx.Error(ctx.kind() + ": " + (i == weight ? "weight " : "bias ") +
                       FormatInts(pt.shape) + " does not match " + std::to_string(t.shape[1]) +
                       " channels");
    }
    TS2COREML_ASSIGN_OR_RETURN(Var p, ctx.Input(i));
    TS2COREML_ASSIGN_OR_RETURN(p, EmitReshape(ctx, p, per_channel));
    TS2COREML_ASSIGN_OR_RETURN(x, EmitBinary(ctx, i == weight ? "mul" : "add", x, p));
  }
  return x;
}

/// layer_norm without gamma and beta over `axes` of `x`: (x - mean) / sqrt(var + eps), the
/// biased variance, as ATen's group and instance norms compute it.
Expected<Var> EmitNormalize(LowerContext& ctx, Var x, const std::vector<int64_t>& axes,
                            uint32_t eps_input) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(eps_input));
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(Var eps_var, ctx.ConstFloat(t.dtype, static_cast<float>(eps)));
  return ctx.Emit1("layer_norm", {{"x", x}, {"axes", axes_var}, {"epsilon", eps_var}}, t);
}

/// MIL batch_norm over `x` of type `out` (rank 2 to 5; rank 2 gets a trailing spatial axis) with
/// the given statistics, as the node's output.
Status EmitBatchNormOutput(LowerContext& ctx, Var x, const TensorType& out, const Stats& stats,
                           Var epsilon) {
  TensorType bn_type = out;
  if (out.rank() == 2) {
    // [N, C] -> [N, C, 1]: MIL batch_norm needs a spatial dimension.
    bn_type.shape.push_back(1);
    TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({2}));
    TS2COREML_ASSIGN_OR_RETURN(x, ctx.Emit1("expand_dims", {{"x", x}, {"axes", axes}}, bn_type));
  }
  std::vector<sdk::Arg> args = {{"x", x},
                                {"mean", stats.mean},
                                {"variance", stats.variance},
                                {"gamma", stats.gamma},
                                {"beta", stats.beta},
                                {"epsilon", epsilon}};
  if (out.rank() != 2) return ctx.EmitOutput("batch_norm", args);
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("batch_norm", args, bn_type));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({2}));
  return ctx.EmitOutput("squeeze", {{"x", y}, {"axes", axes}});
}

/// batch_norm with training=True: each channel is normalized by the mean and biased variance of
/// the batch (all axes but 1), as ATen computes them; the running statistics, if any, are not
/// read. Lowered as transpose to [C, N, *], layer_norm over axes 1.., transpose back, then the
/// affine part as a MIL batch_norm with mean 0, variance 1 and epsilon 0 (which keeps gamma and
/// beta in the param dtype).
Status LowerBatchNormTraining(LowerContext& ctx, const TensorType& out) {
  TS2COREML_RETURN_IF_ERROR(CheckConstantStats(
      ctx,
      {kBatchNormStats.weight, kBatchNormStats.bias, kBatchNormStats.weight, kBatchNormStats.bias},
      "batch_norm", "weight and bias"));
  const int64_t channels = out.shape[1];
  std::vector<int64_t> perm, axes;
  for (int64_t i = 0; i < out.rank(); ++i) perm.push_back(i);
  std::swap(perm[0], perm[1]);
  for (int64_t i = 1; i < out.rank(); ++i) axes.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kBatchNormInput));
  TS2COREML_ASSIGN_OR_RETURN(x, EmitTranspose(ctx, x, perm));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  // eps is a param: in the param dtype, as layer_norm's epsilon may be on iOS17.
  TS2COREML_ASSIGN_OR_RETURN(Var eps, ctx.Input(kBatchNormEps));
  TS2COREML_ASSIGN_OR_RETURN(
      x, ctx.Emit1("layer_norm", {{"x", x}, {"axes", axes_var}, {"epsilon", eps}}, t));
  TS2COREML_ASSIGN_OR_RETURN(x, EmitTranspose(ctx, x, perm));
  Stats stats;
  const std::vector<float> zeros(static_cast<size_t>(channels), 0.0f);
  const std::vector<float> ones(static_cast<size_t>(channels), 1.0f);
  TS2COREML_ASSIGN_OR_RETURN(stats.mean, ctx.ConstFloats(ctx.param_dtype(), zeros, {channels}));
  TS2COREML_ASSIGN_OR_RETURN(stats.variance, ctx.ConstFloats(ctx.param_dtype(), ones, {channels}));
  TS2COREML_ASSIGN_OR_RETURN(stats.gamma, ParamOrFill(ctx, kBatchNormStats.weight, {channels}, 1));
  TS2COREML_ASSIGN_OR_RETURN(stats.beta, ParamOrFill(ctx, kBatchNormStats.bias, {channels}, 0));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon, ctx.ConstFloat(ctx.param_dtype(), 0.0f));
  return EmitBatchNormOutput(ctx, x, out, stats, epsilon);
}

/// aten::batch_norm(input, weight?, bias?, running_mean?, running_var?, training, momentum, eps,
/// cudnn_enabled) -> MIL batch_norm(x, mean, variance, gamma, beta, epsilon) with the running
/// statistics, or the batch statistics when training.
Status LowerBatchNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(bool training, ctx.Bool(kBatchNormTraining));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  if (out.rank() < 2 || out.rank() > 5) {
    return ctx.Error("batch_norm: input rank " + std::to_string(out.rank()) +
                     " is not supported (MIL batch_norm takes rank 3 to 5; rank 2 is reshaped)");
  }
  if (training) return LowerBatchNormTraining(ctx, out);
  if (ctx.IsNone(kBatchNormStats.running_mean) || ctx.IsNone(kBatchNormStats.running_var)) {
    return ctx.Error(
        "batch_norm: training=False needs running_mean and running_var (track_running_stats=True)");
  }
  TS2COREML_RETURN_IF_ERROR(CheckConstantStats(ctx, kBatchNormStats, "batch_norm", "parameters"));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kBatchNormInput));
  TS2COREML_ASSIGN_OR_RETURN(Stats stats, ReadStats(ctx, kBatchNormStats, out.shape[1]));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon, ctx.Input(kBatchNormEps));
  return EmitBatchNormOutput(ctx, x, out, stats, epsilon);
}

constexpr t2c_input_decl kGroupNormInputs[] = {
    sdk::Tensor("input"),        sdk::Host("num_groups"), sdk::OptionalTensor("weight"),
    sdk::OptionalTensor("bias"), sdk::Host("eps"),        sdk::Ignored("cudnn_enabled"),
};
constexpr uint32_t kGroupNormInput = sdk::InputIndex(kGroupNormInputs, "input");
constexpr uint32_t kGroupNormGroups = sdk::InputIndex(kGroupNormInputs, "num_groups");
constexpr uint32_t kGroupNormWeight = sdk::InputIndex(kGroupNormInputs, "weight");
constexpr uint32_t kGroupNormBias = sdk::InputIndex(kGroupNormInputs, "bias");
constexpr uint32_t kGroupNormEps = sdk::InputIndex(kGroupNormInputs, "eps");

/// Like layer_norm's: the variance sums (x - mean)^2 over each group of channels and every
/// spatial position, within FP16's range.
constexpr t2c_fp16_limit kGroupNormLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_CENTERED_SQUARES, kGroupNormInput, 65504.0,
                   "the sum of squares of (input - mean) over each group of channels",
                   T2C_FP16_AXES_CHANNEL_GROUPS, kGroupNormGroups)};

/// aten::group_norm(input [N, C, *], num_groups, weight?, bias?, eps, cudnn_enabled): statistics
/// over each group of C / num_groups channels and all spatial positions, then a per-channel
/// affine. Lowered as reshape to [N, G, rest], layer_norm over the last axis, reshape back.
Status InferGroupNorm(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kGroupNormInput));
  TS2COREML_ASSIGN_OR_RETURN(int64_t groups, ctx.Int(kGroupNormGroups));
  if (x.rank() < 2) {
    return ctx.Error("group_norm: input " + FormatInts(x.shape) + " needs [N, C, *]");
  }
  if (groups <= 0 || x.shape[1] % groups != 0) {
    return ctx.Error("group_norm: " + std::to_string(x.shape[1]) +
                     " channels are not divisible into " + std::to_string(groups) + " groups");
  }
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, x.shape));
}

Status LowerGroupNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t groups, ctx.Int(kGroupNormGroups));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kGroupNormInput));
  const int64_t rest = out.numel() / (out.shape[0] * groups);
  TS2COREML_ASSIGN_OR_RETURN(Var g, EmitReshape(ctx, x, {out.shape[0], groups, rest}));
  TS2COREML_ASSIGN_OR_RETURN(g, EmitNormalize(ctx, g, {2}, kGroupNormEps));
  TS2COREML_ASSIGN_OR_RETURN(g, EmitReshape(ctx, g, out.shape));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitChannelAffine(ctx, g, kGroupNormWeight, kGroupNormBias));
  return ctx.SetOutput(0, y);
}

constexpr t2c_input_decl kInstanceNormInputs[] = {
    sdk::Tensor("input"),
    sdk::OptionalTensor("weight"),
    sdk::OptionalTensor("bias"),
    sdk::OptionalTensor("running_mean"),
    sdk::OptionalTensor("running_var"),
    sdk::Host("use_input_stats"),
    sdk::Ignored("momentum"),
    sdk::Host("eps"),
    sdk::Ignored("cudnn_enabled"),
};
constexpr uint32_t kInstanceNormInput = sdk::InputIndex(kInstanceNormInputs, "input");
constexpr StatsInputs kInstanceNormStats = StatsInputsOf(kInstanceNormInputs);
constexpr uint32_t kInstanceNormUseInputStats =
    sdk::InputIndex(kInstanceNormInputs, "use_input_stats");
constexpr uint32_t kInstanceNormEps = sdk::InputIndex(kInstanceNormInputs, "eps");

/// Like layer_norm's: the variance sums (x - mean)^2 per sample and channel over the spatial
/// dimensions, within FP16's range.
constexpr t2c_fp16_limit kInstanceNormLimits[] = {sdk::Fp16Limit(
    T2C_FP16_STAT_CENTERED_SQUARES, kInstanceNormInput, 65504.0,
    "the sum of squares of (input - mean) over the spatial dimensions", T2C_FP16_AXES_SPATIAL)};

/// aten::instance_norm(input, weight?, bias?, running_mean?, running_var?, use_input_stats,
/// momentum, eps, cudnn_enabled). With use_input_stats: statistics per sample and channel over
/// the spatial dimensions (layer_norm over axes 2..) and a per-channel affine. Without: the
/// running statistics, which is batch_norm in inference.
Status LowerInstanceNorm(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(bool use_input_stats, ctx.Bool(kInstanceNormUseInputStats));
  if (out.rank() < 3) {
    return ctx.Error("instance_norm: input " + FormatInts(out.shape) +
                     " needs [N, C, spatial...] (rank 3 or more)");
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInstanceNormInput));
  if (use_input_stats) {
    std::vector<int64_t> axes;
    for (int64_t i = 2; i < out.rank(); ++i) axes.push_back(i);
    TS2COREML_ASSIGN_OR_RETURN(Var n, EmitNormalize(ctx, x, axes, kInstanceNormEps));
    TS2COREML_ASSIGN_OR_RETURN(
        Var y, EmitChannelAffine(ctx, n, kInstanceNormStats.weight, kInstanceNormStats.bias));
    return ctx.SetOutput(0, y);
  }
  if (ctx.IsNone(kInstanceNormStats.running_mean) || ctx.IsNone(kInstanceNormStats.running_var)) {
    return ctx.Error(
        "instance_norm: use_input_stats=False needs running_mean and running_var (track_running_stats=True)");
  }
  if (out.rank() > 5) {
    return ctx.Error("instance_norm: rank " + std::to_string(out.rank()) +
                     " with running statistics is not supported (MIL batch_norm takes 3 to 5)");
  }
  TS2COREML_RETURN_IF_ERROR(
      CheckConstantStats(ctx, kInstanceNormStats, "instance_norm", "statistics"));
  TS2COREML_ASSIGN_OR_RETURN(Stats stats, ReadStats(ctx, kInstanceNormStats, out.shape[1]));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kInstanceNormEps));
  TS2COREML_ASSIGN_OR_RETURN(Var epsilon,
                             ctx.ConstFloat(ctx.param_dtype(), static_cast<float>(eps)));
  return ctx.EmitOutput("batch_norm", {{"x", x},
                                       {"mean", stats.mean},
                                       {"variance", stats.variance},
                                       {"gamma", stats.gamma},
                                       {"beta", stats.beta},
                                       {"epsilon", epsilon}});
}

constexpr const char* kBatchNormOps[] = {"aten::batch_norm"};
constexpr const char* kLayerNormOps[] = {"aten::layer_norm"};
constexpr const char* kGroupNormOps[] = {"aten::group_norm"};
constexpr const char* kInstanceNormOps[] = {"aten::instance_norm"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("batch_norm", kBatchNormOps, kBatchNormInputs, T2C_FP16_FP32_PARAMS,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerBatchNorm>),
    sdk::WithFp16Limits(
        sdk::Lowering("layer_norm", kLayerNormOps, kLayerNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_SAME_AS_INPUT0, nullptr, sdk::LowerFn<LowerLayerNorm>),
        kLayerNormLimits),
    // Like layer_norm, the group and instance statistics overflow or lose precision in FP16.
    sdk::WithFp16Limits(
        sdk::Lowering("group_norm", kGroupNormOps, kGroupNormInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferGroupNorm>, sdk::LowerFn<LowerGroupNorm>),
        kGroupNormLimits),
    sdk::WithFp16Limits(sdk::Lowering("instance_norm", kInstanceNormOps, kInstanceNormInputs,
                                      T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_SAME_AS_INPUT0,
                                      nullptr, sdk::LowerFn<LowerInstanceNorm>),
                        kInstanceNormLimits),
};

/// This file's lowerings, then native_norm_lowerings.cpp's, weight_norm_lowerings.cpp's and
/// batch_norm_backward_lowering.cpp's.
constexpr auto kAllLowerings =
    ConcatLowerings(ConcatLowerings(ConcatLowerings(kLowerings, native_norm::kNativeLowerings),
                                    weight_norm::kLowerings),
                    batch_norm_backward::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.norm",
    "0.1.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* NormPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
