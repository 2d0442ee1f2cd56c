/// aten::embedding: rows of a weight table gathered by integer ids (MIL gather on axis 0).
///
/// Declared here so the indexing plugin lists it (indexing_lowerings.cpp, kLowerings) while its
/// code lives in embedding_lowering.cpp.
#ifndef TS2COREML_PLUGINS_INDEXING_EMBEDDING_LOWERING_H_
#define TS2COREML_PLUGINS_INDEXING_EMBEDDING_LOWERING_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

/// Output type: the ids' shape followed by the embedding dimension.
sdk::Status InferEmbedding(sdk::InferContext& ctx);
/// gather(weight, ids, axis=0).
sdk::Status LowerEmbedding(sdk::LowerContext& ctx);

/// aten::embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse). padding_idx,
/// scale_grad_by_freq and sparse only change gradients: the forward result is the gathered rows.
inline constexpr t2c_input_decl kEmbeddingInputs[] = {
    sdk::Tensor("weight", T2C_MASK_FLOAT), sdk::Tensor("indices", T2C_DTYPE_BIT(T2C_DTYPE_INT32)),
    sdk::Host("padding_idx", T2C_INPUT_OPTIONAL), sdk::Ignored("scale_grad_by_freq"),
    sdk::Ignored("sparse")};
inline constexpr const char* kEmbeddingOps[] = {"aten::embedding"};
inline constexpr t2c_lowering_decl kEmbeddingLowering =
    sdk::Lowering("embedding", kEmbeddingOps, kEmbeddingInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferEmbedding>, sdk::LowerFn<LowerEmbedding>);

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_INDEXING_EMBEDDING_LOWERING_H_
