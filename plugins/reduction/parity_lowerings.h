/// Reductions added for op parity with coremltools: cosine_similarity,
/// linalg_vecdot, trace, mse_loss, nll_loss, searchsorted. reduction_lowerings.cpp appends
/// kLowerings to its table.
#ifndef TS2COREML_PLUGINS_REDUCTION_PARITY_LOWERINGS_H_
#define TS2COREML_PLUGINS_REDUCTION_PARITY_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::reduction_parity {

sdk::Status InferCosine(sdk::InferContext& ctx);
sdk::Status LowerCosine(sdk::LowerContext& ctx);
sdk::Status InferVecdot(sdk::InferContext& ctx);
sdk::Status LowerVecdot(sdk::LowerContext& ctx);
sdk::Status InferTrace(sdk::InferContext& ctx);
sdk::Status LowerTrace(sdk::LowerContext& ctx);
sdk::Status InferMse(sdk::InferContext& ctx);
sdk::Status LowerMse(sdk::LowerContext& ctx);
sdk::Status InferNll(sdk::InferContext& ctx);
sdk::Status LowerNll(sdk::LowerContext& ctx);
sdk::Status InferSearchsorted(sdk::InferContext& ctx);
sdk::Status LowerSearchsorted(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kCosineInputs[] = {sdk::Tensor("x1", T2C_MASK_FLOAT),
                                                   sdk::Tensor("x2", T2C_MASK_FLOAT),
                                                   sdk::Host("dim"), sdk::Host("eps")};
inline constexpr t2c_input_decl kVecdotInputs[] = {
    sdk::Tensor("x", T2C_MASK_FLOAT), sdk::Tensor("y", T2C_MASK_FLOAT), sdk::Host("dim")};
inline constexpr t2c_input_decl kTraceInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT)};
inline constexpr t2c_input_decl kMseInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT),
                                                sdk::Tensor("target", T2C_MASK_FLOAT),
                                                sdk::Host("reduction", T2C_INPUT_OPTIONAL)};

inline constexpr t2c_input_decl kNllInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT), sdk::Tensor("target", T2C_DTYPE_BIT(T2C_DTYPE_INT32)),
    sdk::Tensor("weight", T2C_MASK_FLOAT, T2C_INPUT_OPTIONAL), sdk::Host("reduction"),
    sdk::Host("ignore_index")};
inline constexpr const char* kNllOps[] = {"aten::nll_loss", "aten::nll_loss_nd",
                                          "aten::nll_loss2d"};
inline constexpr t2c_input_decl kSearchsortedInputs[] = {
    sdk::Tensor("sorted_sequence", T2C_MASK_FLOAT),
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Host("out_int32", T2C_INPUT_OPTIONAL),
    sdk::Host("right", T2C_INPUT_OPTIONAL),
    sdk::Host("side", T2C_INPUT_OPTIONAL),
    sdk::Tensor("sorter", T2C_DTYPE_BIT(T2C_DTYPE_INT32), T2C_INPUT_OPTIONAL)};
inline constexpr const char* kSearchsortedOps[] = {"aten::searchsorted.Tensor"};
inline constexpr const char* kCosineOps[] = {"aten::cosine_similarity"};
inline constexpr const char* kVecdotOps[] = {"aten::linalg_vecdot"};
inline constexpr const char* kTraceOps[] = {"aten::trace"};
inline constexpr const char* kMseOps[] = {"aten::mse_loss"};

// cosine_similarity normalizes each input by the root of its sum of squares over dim.
inline constexpr t2c_fp16_limit kCosineLimits[] = {
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_SQUARES, sdk::InputIndex(kCosineInputs, "x1"), 65504.0,
                   "the sum of squares of x1 over dim", T2C_FP16_AXES_DIMS,
                   sdk::InputIndex(kCosineInputs, "dim")),
    sdk::Fp16Limit(T2C_FP16_STAT_SUM_SQUARES, sdk::InputIndex(kCosineInputs, "x2"), 65504.0,
                   "the sum of squares of x2 over dim", T2C_FP16_AXES_DIMS,
                   sdk::InputIndex(kCosineInputs, "dim"))};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::WithFp16Limits(
        sdk::Lowering("cosine_similarity", kCosineOps, kCosineInputs, T2C_FP16_NEEDS_FP32_COMPUTE,
                      T2C_INFER_CUSTOM, sdk::InferFn<InferCosine>, sdk::LowerFn<LowerCosine>),
        kCosineLimits),
    sdk::Lowering("linalg_vecdot", kVecdotOps, kVecdotInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferVecdot>, sdk::LowerFn<LowerVecdot>),
    sdk::Lowering("trace", kTraceOps, kTraceInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferTrace>, sdk::LowerFn<LowerTrace>),
    sdk::Lowering("mse_loss", kMseOps, kMseInputs, T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMse>, sdk::LowerFn<LowerMse>),
    sdk::Lowering("nll_loss", kNllOps, kNllInputs, T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferNll>, sdk::LowerFn<LowerNll>),
    sdk::Lowering("searchsorted", kSearchsortedOps, kSearchsortedInputs,
                  T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM, sdk::InferFn<InferSearchsorted>,
                  sdk::LowerFn<LowerSearchsorted>),
};

}  // namespace ts2coreml::plugins::reduction_parity

#endif  // TS2COREML_PLUGINS_REDUCTION_PARITY_LOWERINGS_H_
