/// aten::embedding as MIL gather. PyTorch reads ids of any rank (int64 or int32; they reach
/// the lowering as int32, the only index dtype Core ML inputs carry) and returns
/// weight[ids]: the ids' shape followed by the embedding dimension. padding_idx only stops the
/// gradient of its row; the forward result is the row as stored, so it is checked and read, not
/// applied.
#include "indexing/embedding_lowering.h"

#include <cstdint>
#include <string>
#include <vector>

#include "common/lowering_util.h"

namespace ts2coreml::plugins {
namespace {

constexpr uint32_t kWeight = sdk::InputIndex(kEmbeddingInputs, "weight");
constexpr uint32_t kIndices = sdk::InputIndex(kEmbeddingInputs, "indices");
constexpr uint32_t kPaddingIdx = sdk::InputIndex(kEmbeddingInputs, "padding_idx");

/// The output type of embedding, or why the inputs do not fit it.
Expected<TensorType> EmbeddingType(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType weight, ctx.InputType(kWeight));
  TS2COREML_ASSIGN_OR_RETURN(TensorType ids, ctx.InputType(kIndices));
  if (weight.rank() != 2) {
    return ctx.InvalidInputs(
        "aten::embedding: weight must be 2-D (num_embeddings x dim), got rank " +
        std::to_string(weight.rank()));
  }
  if (ids.dtype != T2C_DTYPE_INT32) {
    return ctx.Error(
        "aten::embedding: indices must be integers (PyTorch takes int64 or int32 ids); give the "
        "argument an integer dtype, e.g. --input ids:1x128:int64");
  }
  if (ids.rank() + 1 > 5) {
    return ctx.Error("aten::embedding: indices of rank " + std::to_string(ids.rank()) +
                     " give a result of rank " + std::to_string(ids.rank() + 1) +
                     "; Core ML tensors have rank 5 at most");
  }
  if (!ctx.IsNone(kPaddingIdx) && ctx.num_inputs() > kPaddingIdx) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t pad, ctx.Int(kPaddingIdx));
    const int64_t n = weight.shape[0];
    // -1 is what nn.functional.embedding passes for "no padding_idx".
    if (pad != -1 && (pad < -n || pad >= n)) {
      return ctx.InvalidInputs("aten::embedding: padding_idx " + std::to_string(pad) +
                               " is outside the " + std::to_string(n) + " embeddings");
    }
  }
  TensorType out = ids;
  out.dtype = weight.dtype;
  out.shape.push_back(weight.shape[1]);
  return out;
}

}  // namespace

Status InferEmbedding(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, EmbeddingType(ctx));
  return ctx.SetOutputType(0, out);
}

Status LowerEmbedding(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var weight, ctx.Input(kWeight));
  TS2COREML_ASSIGN_OR_RETURN(Var ids, ctx.Input(kIndices));
  TS2COREML_ASSIGN_OR_RETURN(Var axis, ctx.ConstInt(0));
  return ctx.EmitOutput("gather", {{"x", weight}, {"indices", ids}, {"axis", axis}});
}

}  // namespace ts2coreml::plugins
