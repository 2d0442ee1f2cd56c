/// native_batch_norm_backward (see batch_norm_backward_lowering.h).
#include "norm/batch_norm_backward_lowering.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"

namespace ts2coreml::plugins::batch_norm_backward {
namespace {

using sdk::Expected;
using sdk::NodeView;
using sdk::TensorType;
using sdk::Var;
using Shape = std::vector<int64_t>;

constexpr uint32_t kGradOut = sdk::InputIndex(kInputs, "grad_out");
constexpr uint32_t kInput = sdk::InputIndex(kInputs, "input");
constexpr uint32_t kWeight = sdk::InputIndex(kInputs, "weight");
constexpr uint32_t kRunningMean = sdk::InputIndex(kInputs, "running_mean");
constexpr uint32_t kRunningVar = sdk::InputIndex(kInputs, "running_var");
constexpr uint32_t kSaveMean = sdk::InputIndex(kInputs, "save_mean");
constexpr uint32_t kSaveInvstd = sdk::InputIndex(kInputs, "save_invstd");
constexpr uint32_t kTrain = sdk::InputIndex(kInputs, "train");
constexpr uint32_t kEps = sdk::InputIndex(kInputs, "eps");
constexpr uint32_t kOutputMask = sdk::InputIndex(kInputs, "output_mask");

constexpr char kOp[] = "aten::native_batch_norm_backward";

/// What the arguments fix.
struct Plan {
  TensorType x;
  int64_t channels = 0;
  bool train = false;
  double eps = 0;
  std::vector<bool> mask;  ///< grad_input, grad_weight, grad_bias
  Shape stat_shape;        ///< [1, C, 1, ...]: a per-channel vector broadcast against x
  Shape axes;              ///< every dim but 1
};

bool Given(const NodeView& ctx, uint32_t i) { return ctx.num_inputs() > i && !ctx.IsNone(i); }

/// Checks that the per-channel inputs the mode reads are given and hold C values.
sdk::Status CheckStatistics(const NodeView& ctx, const Plan& p) {
  const uint32_t mean = p.train ? kSaveMean : kRunningMean;
  const uint32_t spread = p.train ? kSaveInvstd : kRunningVar;
  for (uint32_t i : {mean, spread}) {
    if (!Given(ctx, i)) {
      const char* reads = p.train ? "save_mean and save_invstd" : "running_mean and running_var";
      return ctx.InvalidInputs(std::string(kOp) + ": train=" + (p.train ? "True" : "False") +
                               " reads " + reads + ", which are None");
    }
  }
  for (uint32_t i : {kWeight, mean, spread}) {
    if (!Given(ctx, i)) continue;
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(i));
    if (t.shape != Shape{p.channels}) {
      return ctx.InvalidInputs(std::string(kOp) + ": a per-channel input has shape " +
                               FormatInts(t.shape) + ", expected [" + std::to_string(p.channels) +
                               "]");
    }
  }
  return sdk::Status::Ok();
}

Expected<Plan> ReadPlan(const NodeView& ctx) {
  Plan p;
  TS2COREML_ASSIGN_OR_RETURN(p.x, ctx.InputType(kInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType g, ctx.InputType(kGradOut));
  TS2COREML_ASSIGN_OR_RETURN(p.train, ctx.Bool(kTrain));
  TS2COREML_ASSIGN_OR_RETURN(p.eps, ctx.Float(kEps));
  TS2COREML_ASSIGN_OR_RETURN(p.mask, ctx.Bools(kOutputMask));
  if (p.x.rank() < 2 || g.shape != p.x.shape) {
    return ctx.InvalidInputs(std::string(kOp) + ": grad_out " + FormatInts(g.shape) +
                             " and input " + FormatInts(p.x.shape) +
                             " must have one shape of rank 2 or more");
  }
  if (p.mask.size() != 3) {
    return ctx.InvalidInputs(std::string(kOp) + ": output_mask has " +
                             std::to_string(p.mask.size()) + " values, expected 3");
  }
  for (uint32_t k = 0; k < 3; ++k) {
    if (!p.mask[k] && ctx.OutputIsUsed(k)) {
      return ctx.Error(std::string(kOp) + ": output " + std::to_string(k) +
                       " is read, but output_mask[" + std::to_string(k) +
                       "] is False, so PyTorch leaves it undefined");
    }
  }
  p.channels = p.x.shape[1];
  p.stat_shape = Shape(static_cast<size_t>(p.x.rank()), 1);
  p.stat_shape[1] = p.channels;
  for (int64_t d = 0; d < p.x.rank(); ++d) {
    if (d != 1) p.axes.push_back(d);
  }
  TS2COREML_RETURN_IF_ERROR(CheckStatistics(ctx, p));
  return p;
}

/// Per-channel input `i` reshaped to broadcast against x.
Expected<Var> Channels(const sdk::LowerContext& ctx, const Plan& p, uint32_t i) {
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(i));
  return EmitReshape(ctx, v, p.stat_shape);
}

/// The mean and invstd the mode reads, shaped [1, C, 1, ...].
Expected<std::pair<Var, Var>> Statistics(const sdk::LowerContext& ctx, const Plan& p) {
  TS2COREML_ASSIGN_OR_RETURN(Var mean, Channels(ctx, p, p.train ? kSaveMean : kRunningMean));
  if (p.train) {
    TS2COREML_ASSIGN_OR_RETURN(Var invstd, Channels(ctx, p, kSaveInvstd));
    return std::make_pair(mean, invstd);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var var, Channels(ctx, p, kRunningVar));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(var));
  TS2COREML_ASSIGN_OR_RETURN(Var eps, ctx.ConstFloat(t.dtype, static_cast<float>(p.eps)));
  TS2COREML_ASSIGN_OR_RETURN(Var shifted, EmitBinary(ctx, "add", var, eps));
  TS2COREML_ASSIGN_OR_RETURN(Var invstd, ctx.Emit1("rsqrt", {{"x", shifted}}, t));
  return std::make_pair(mean, invstd);
}

/// grad_input = (g - [train: sum / N + xc * dotp * invstd^2 / N]) * invstd * weight.
Expected<Var> GradInput(const sdk::LowerContext& ctx, const Plan& p, Var g, Var xc, Var sum,
                        Var dotp, Var invstd) {
  Var scale = invstd;
  if (Given(ctx, kWeight)) {
    TS2COREML_ASSIGN_OR_RETURN(Var w, Channels(ctx, p, kWeight));
    TS2COREML_ASSIGN_OR_RETURN(scale, EmitBinary(ctx, "mul", invstd, w));
  }
  if (!p.train) return EmitBinary(ctx, "mul", g, scale);
  TS2COREML_ASSIGN_OR_RETURN(TensorType st, ctx.TypeOf(invstd));
  const float n = static_cast<float>(p.x.numel() / p.channels);
  TS2COREML_ASSIGN_OR_RETURN(Var inv_n, ctx.ConstFloat(st.dtype, 1.0f / n));
  TS2COREML_ASSIGN_OR_RETURN(Var grad_mean, EmitBinary(ctx, "mul", sum, inv_n));
  TS2COREML_ASSIGN_OR_RETURN(Var var_term, EmitBinary(ctx, "mul", invstd, invstd));
  TS2COREML_ASSIGN_OR_RETURN(var_term, EmitBinary(ctx, "mul", var_term, dotp));
  TS2COREML_ASSIGN_OR_RETURN(var_term, EmitBinary(ctx, "mul", var_term, inv_n));
  TS2COREML_ASSIGN_OR_RETURN(Var dx, EmitBinary(ctx, "mul", xc, var_term));
  TS2COREML_ASSIGN_OR_RETURN(Var centered, EmitBinary(ctx, "sub", g, grad_mean));
  TS2COREML_ASSIGN_OR_RETURN(centered, EmitBinary(ctx, "sub", centered, dx));
  return EmitBinary(ctx, "mul", centered, scale);
}

/// Binds output `k`: `value` (a [1, C, 1, ...] statistic flattened to [C]), or, when PyTorch
/// leaves the output undefined (and nothing reads it), zeros of its type.
sdk::Status BindChannelOutput(sdk::LowerContext& ctx, const Plan& p, uint32_t k, Var value) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(k));
  if (!p.mask[k]) {
    TS2COREML_ASSIGN_OR_RETURN(
        value, ctx.ConstFloats(out.dtype, std::vector<float>(static_cast<size_t>(p.channels), 0),
                               out.shape));
    return ctx.SetOutput(k, value);
  }
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, value, out.shape));
  return ctx.SetOutput(k, flat);
}

}  // namespace

sdk::Status InferBatchNormBackward(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, p.x.shape)));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(1, TensorType(T2C_DTYPE_FP32, {p.channels})));
  return ctx.SetOutputType(2, TensorType(T2C_DTYPE_FP32, {p.channels}));
}

sdk::Status LowerBatchNormBackward(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var g, ctx.Input(kGradOut));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInput));
  TS2COREML_ASSIGN_OR_RETURN(auto stats, Statistics(ctx, p));
  const auto [mean, invstd] = stats;
  const bool need_sums = p.mask[2] || (p.train && p.mask[0]);
  const bool need_dotp = p.mask[1] || (p.train && p.mask[0]);
  Var sum, dotp, xc;
  if (need_sums) {
    TS2COREML_ASSIGN_OR_RETURN(sum, EmitReduce(ctx, "reduce_sum", g, p.axes, true));
  }
  if (need_dotp) {
    TS2COREML_ASSIGN_OR_RETURN(xc, EmitBinary(ctx, "sub", x, mean));
    TS2COREML_ASSIGN_OR_RETURN(Var prod, EmitBinary(ctx, "mul", xc, g));
    TS2COREML_ASSIGN_OR_RETURN(dotp, EmitReduce(ctx, "reduce_sum", prod, p.axes, true));
  }
  Var grad_input = g;  // bound, unread, when output_mask[0] is False
  if (p.mask[0]) {
    TS2COREML_ASSIGN_OR_RETURN(grad_input, GradInput(ctx, p, g, xc, sum, dotp, invstd));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, grad_input));
  Var grad_weight;
  if (p.mask[1]) {
    TS2COREML_ASSIGN_OR_RETURN(grad_weight, EmitBinary(ctx, "mul", dotp, invstd));
  }
  TS2COREML_RETURN_IF_ERROR(BindChannelOutput(ctx, p, 1, grad_weight));
  return BindChannelOutput(ctx, p, 2, sum);
}

}  // namespace ts2coreml::plugins::batch_norm_backward
