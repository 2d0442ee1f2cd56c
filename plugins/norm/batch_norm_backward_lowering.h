/// native_batch_norm_backward(grad_out, input, weight, running_mean, running_var, save_mean,
/// save_invstd, train, eps, output_mask) -> (grad_input, grad_weight, grad_bias), as ATen's CPU
/// kernel computes it, channels on dim 1. With train=False the statistics are the running ones
/// (invstd = rsqrt(running_var + eps)) and grad_input = grad_out * invstd * weight; with
/// train=True they are the saved batch statistics, and grad_input also carries the terms of the
/// batch mean and variance. grad_weight = sum(grad_out * (input - mean)) * invstd and grad_bias =
/// sum(grad_out), summed over every dim but 1. `output_mask` (a bool[3]) says which outputs
/// PyTorch defines; reading an output it leaves undefined is refused. norm_lowerings.cpp appends
/// kLowerings.
///
///   %gi, %gw, %gb = aten::native_batch_norm_backward(%g, %x, %w, %rm, %rv, None, None, False,
///                                                    1e-5, [True, False, True])
///   -> rsqrt(rv + eps); mul(g, invstd * w); reduce_sum(g) (grad_weight: never computed)
#ifndef TS2COREML_PLUGINS_NORM_BATCH_NORM_BACKWARD_LOWERING_H_
#define TS2COREML_PLUGINS_NORM_BATCH_NORM_BACKWARD_LOWERING_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::batch_norm_backward {

sdk::Status InferBatchNormBackward(sdk::InferContext& ctx);
sdk::Status LowerBatchNormBackward(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kInputs[] = {sdk::Tensor("grad_out"),
                                             sdk::Tensor("input"),
                                             sdk::OptionalTensor("weight"),
                                             sdk::OptionalTensor("running_mean"),
                                             sdk::OptionalTensor("running_var"),
                                             sdk::OptionalTensor("save_mean"),
                                             sdk::OptionalTensor("save_invstd"),
                                             sdk::Host("train"),
                                             sdk::Host("eps"),
                                             sdk::Host("output_mask")};
inline constexpr const char* kOps[] = {"aten::native_batch_norm_backward"};

/// The per-channel sums accumulate over the batch and spatial dims: computed in FP32.
inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("native_batch_norm_backward", kOps, kInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferBatchNormBackward>,
                  sdk::LowerFn<LowerBatchNormBackward>),
};

}  // namespace ts2coreml::plugins::batch_norm_backward

#endif  // TS2COREML_PLUGINS_NORM_BATCH_NORM_BACKWARD_LOWERING_H_
