/// Elementwise ops added for op parity with coremltools: nan_to_num, cross and
/// linalg_cross. elementwise_lowerings.cpp appends kParityLowerings to its table.
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_PARITY_LOWERINGS_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_PARITY_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::elementwise_parity {

sdk::Status InferNanToNum(sdk::InferContext& ctx);
sdk::Status LowerNanToNum(sdk::LowerContext& ctx);
sdk::Status InferCross(sdk::InferContext& ctx);
sdk::Status LowerCross(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kNanToNumInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT), sdk::Host("nan", T2C_INPUT_OPTIONAL),
    sdk::Host("posinf", T2C_INPUT_OPTIONAL), sdk::Host("neginf", T2C_INPUT_OPTIONAL)};
inline constexpr t2c_input_decl kCrossInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                                  sdk::Tensor("other", T2C_MASK_FLOAT_INT),
                                                  sdk::Host("dim", T2C_INPUT_OPTIONAL)};

inline constexpr const char* kNanToNumOps[] = {"aten::nan_to_num"};
inline constexpr const char* kCrossOps[] = {"aten::cross", "aten::linalg_cross"};

inline constexpr t2c_lowering_decl kParityLowerings[] = {
    sdk::Lowering("nan_to_num", kNanToNumOps, kNanToNumInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferNanToNum>, sdk::LowerFn<LowerNanToNum>),
    sdk::Lowering("cross", kCrossOps, kCrossInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferCross>, sdk::LowerFn<LowerCross>),
};

}  // namespace ts2coreml::plugins::elementwise_parity

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_PARITY_LOWERINGS_H_
