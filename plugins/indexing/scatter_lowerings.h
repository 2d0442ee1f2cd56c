/// Scatter lowerings added to the indexing plugin: scatter (src, value, reduce add/multiply),
/// scatter_add, scatter_reduce (sum, prod, mean, amax, amin; include_self), index_add,
/// index_copy and index_fill.
///
/// No MIL scatter op is used: the index becomes a one-hot comparison against the target axis
/// ([.., K, D, ..]: entry k of the index hits position d), reduced over K. Writes (scatter,
/// index_copy) take the value of the last index hitting a position, as ATen's CPU kernel does.
#ifndef TS2COREML_PLUGINS_INDEXING_SCATTER_LOWERINGS_H_
#define TS2COREML_PLUGINS_INDEXING_SCATTER_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::scatter {

sdk::Status InferScatter(sdk::InferContext& ctx);
sdk::Status LowerScatter(sdk::LowerContext& ctx);

/// scatter.src/.value/.reduce/.value_reduce, scatter_add, scatter_reduce.two: (self, dim, index,
/// src or value, reduce?, include_self?); index_add: (self, dim, index, source, alpha);
/// index_copy, index_fill: (self, dim, index, source or value).
inline constexpr t2c_input_decl kScatterInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim"),
    sdk::Tensor("index", T2C_DTYPE_BIT(T2C_DTYPE_INT32)),
    sdk::Tensor("src_or_value", T2C_MASK_FLOAT_INT),
    sdk::Host("reduce_or_alpha", T2C_INPUT_OPTIONAL),
    sdk::Host("include_self", T2C_INPUT_OPTIONAL),
};

inline constexpr const char* kScatterOps[] = {"aten::scatter.src",
                                              "aten::scatter.value",
                                              "aten::scatter.reduce",
                                              "aten::scatter.value_reduce",
                                              "aten::scatter_add",
                                              "aten::scatter_reduce.two",
                                              "aten::index_add",
                                              "aten::index_copy",
                                              "aten::index_fill.int_Scalar",
                                              "aten::index_fill.int_Tensor"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("scatter", kScatterOps, kScatterInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferScatter>, sdk::LowerFn<LowerScatter>),
};

}  // namespace ts2coreml::plugins::scatter

#endif  // TS2COREML_PLUGINS_INDEXING_SCATTER_LOWERINGS_H_
