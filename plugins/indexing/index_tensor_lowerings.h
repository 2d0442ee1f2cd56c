/// aten::index.Tensor (advanced indexing, x[i0, i1, ...], x[:, idx]) with integer index tensors,
/// added to the indexing plugin. None entries keep their dim. The indexed dims are moved first;
/// the index tensors broadcast together, negative entries count from the end, and one flat index
/// (sum of index * stride) reads the input reshaped to [prod(indexed dims), rest...] with one
/// gather; the broadcast dims then go where PyTorch puts them (in place of adjacent indexed
/// dims, else first).
///
/// Not lowered: boolean masks (the output shape depends on the values).
#ifndef TS2COREML_PLUGINS_INDEXING_INDEX_TENSOR_LOWERINGS_H_
#define TS2COREML_PLUGINS_INDEXING_INDEX_TENSOR_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::index_tensor {

sdk::Status InferIndex(sdk::InferContext& ctx);
sdk::Status LowerIndex(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kIndexInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::OptionalTensorList("indices",
                            T2C_DTYPE_BIT(T2C_DTYPE_INT32) | T2C_DTYPE_BIT(T2C_DTYPE_BOOL))};

inline constexpr const char* kIndexOps[] = {"aten::index.Tensor"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("index", kIndexOps, kIndexInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferIndex>, sdk::LowerFn<LowerIndex>),
};

}  // namespace ts2coreml::plugins::index_tensor

#endif  // TS2COREML_PLUGINS_INDEXING_INDEX_TENSOR_LOWERINGS_H_
