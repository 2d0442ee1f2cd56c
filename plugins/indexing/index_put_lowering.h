/// index_put(self, indices, values, accumulate): writes through one index. A bool mask over the
/// leading dims with a one-element value is a select; one int index (at any position, the others
/// None) is a one-hot comparison of its K entries against the dim, the values summed into the
/// hit rows (accumulate adds them to self, else they replace the rows). indexing_lowerings.cpp
/// lists kIndexPutLowering.
#ifndef TS2COREML_PLUGINS_INDEXING_INDEX_PUT_LOWERING_H_
#define TS2COREML_PLUGINS_INDEXING_INDEX_PUT_LOWERING_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

sdk::Status InferIndexPut(sdk::InferContext& ctx);
sdk::Status LowerIndexPut(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kIndexPutInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::OptionalTensorList("indices",
                            T2C_DTYPE_BIT(T2C_DTYPE_INT32) | T2C_DTYPE_BIT(T2C_DTYPE_BOOL)),
    sdk::Tensor("values", T2C_MASK_FLOAT_INT), sdk::Host("accumulate", T2C_INPUT_OPTIONAL)};
inline constexpr const char* kIndexPutOps[] = {"aten::index_put"};
inline constexpr t2c_lowering_decl kIndexPutLowering =
    sdk::Lowering("index_put", kIndexPutOps, kIndexPutInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferIndexPut>, sdk::LowerFn<LowerIndexPut>);

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_INDEXING_INDEX_PUT_LOWERING_H_
