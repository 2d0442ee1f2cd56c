/// native_layer_norm(input, normalized_shape, weight?, bias?, eps) -> (out, mean, rstd), as
/// decompositions emit it: the statistics over the trailing dims (kept as size-1 dims), then
/// (x - mean) * rstd * weight + bias; native_group_norm(input, weight?, bias?, N, C, HxW, group,
/// eps) -> (out, mean [N, group], rstd [N, group]) likewise over each group of channels.
/// norm_lowerings.cpp appends kNativeLowerings.
#ifndef TS2COREML_PLUGINS_NORM_NATIVE_NORM_LOWERINGS_H_
#define TS2COREML_PLUGINS_NORM_NATIVE_NORM_LOWERINGS_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::native_norm {

sdk::Status InferNativeLayerNorm(sdk::InferContext& ctx);
sdk::Status LowerNativeLayerNorm(sdk::LowerContext& ctx);
sdk::Status InferNativeGroupNorm(sdk::InferContext& ctx);
sdk::Status LowerNativeGroupNorm(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kNativeLayerNormInputs[] = {
    sdk::Tensor("input"), sdk::Host("normalized_shape"),
    sdk::Tensor("weight", T2C_MASK_FLOAT, T2C_INPUT_OPTIONAL),
    sdk::Tensor("bias", T2C_MASK_FLOAT, T2C_INPUT_OPTIONAL), sdk::Host("eps")};
inline constexpr const char* kNativeLayerNormOps[] = {"aten::native_layer_norm"};
/// As layer_norm's (norm_lowerings.cpp): the sum of squares over normalized_shape within 65504.
inline constexpr t2c_fp16_limit kNativeLayerNormLimits[] = {sdk::Fp16Limit(
    T2C_FP16_STAT_CENTERED_SQUARES, sdk::InputIndex(kNativeLayerNormInputs, "input"), 65504.0,
    "the sum of squares of (input - mean) over normalized_shape", T2C_FP16_AXES_TRAILING,
    sdk::InputIndex(kNativeLayerNormInputs, "normalized_shape"))};
inline constexpr t2c_input_decl kNativeGroupNormInputs[] = {
    sdk::Tensor("input"),
    sdk::Tensor("weight", T2C_MASK_FLOAT, T2C_INPUT_OPTIONAL),
    sdk::Tensor("bias", T2C_MASK_FLOAT, T2C_INPUT_OPTIONAL),
    sdk::Host("N"),
    sdk::Host("C"),
    sdk::Host("HxW"),
    sdk::Host("group"),
    sdk::Host("eps")};
inline constexpr const char* kNativeGroupNormOps[] = {"aten::native_group_norm"};
/// As group_norm's (norm_lowerings.cpp): the sum of squares over each group within 65504.
inline constexpr t2c_fp16_limit kNativeGroupNormLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_CENTERED_SQUARES, sdk::InputIndex(kNativeGroupNormInputs, "input"),
                   65504.0, "the sum of squares of (input - mean) over each group of channels",
                   T2C_FP16_AXES_CHANNEL_GROUPS, sdk::InputIndex(kNativeGroupNormInputs, "group"))};

inline constexpr t2c_lowering_decl kNativeLowerings[] = {
    sdk::WithFp16Limits(
        sdk::Lowering("native_layer_norm", kNativeLayerNormOps, kNativeLayerNormInputs,
                      T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferNativeLayerNorm>, sdk::LowerFn<LowerNativeLayerNorm>),
        kNativeLayerNormLimits),
    sdk::WithFp16Limits(
        sdk::Lowering("native_group_norm", kNativeGroupNormOps, kNativeGroupNormInputs,
                      T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                      sdk::InferFn<InferNativeGroupNorm>, sdk::LowerFn<LowerNativeGroupNorm>),
        kNativeGroupNormLimits),
};

}  // namespace ts2coreml::plugins::native_norm

#endif  // TS2COREML_PLUGINS_NORM_NATIVE_NORM_LOWERINGS_H_
