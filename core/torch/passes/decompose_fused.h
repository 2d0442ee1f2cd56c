/// Decomposition of PyTorch's fused transformer kernels into the primitive aten ops of their
/// unfused Python path, before dtype planning.
///
/// Under torch.no_grad() in eval mode, nn.TransformerEncoderLayer traces to one
/// aten::_transformer_encoder_layer_fwd and nn.MultiheadAttention (self-attention) to one
/// aten::_native_multi_head_attention. Lowered as one composite, such a node gets one precision:
/// its softmax and layer_norms need FP32, so the whole layer ran in FP32. Rewritten here into the
/// same linear / chunk / reshape (view) / transpose / bmm / softmax / layer_norm / add ops that
/// F.multi_head_attention_forward and TransformerEncoderLayer._sa_block/_ff_block trace to, each
/// piece is planned and lowered on its own, and a fused trace gets the plan of its unfused twin.
/// (aten::reshape where the Python path has contiguous().view(): the same MIL reshape, and a
/// graph that still runs in LibTorch, which decompose_fused_test.cpp checks against the kernels.)
///
/// Semantics follow ATen's CPU kernels (native/transformers/attention.cpp, transformer.cpp in
/// PyTorch 1.13) where they differ from the Python path:
///  - a mask is a bool key padding mask [B, S] (mask_type 1; True drops the key): masked
///    positions get probability 0, and a row with every key masked is NaN, as in ATen. ATen's
///    CPU kernels refuse mask_type 0 (src_mask), and so does this pass; a non-bool mask (ATen
///    reads nonzero as masked) is refused by masked_fill's lowering;
///  - need_weights=False leaves output 1 an empty tensor: reading it is refused;
///  - the encoder layer's activation is exact gelu (use_gelu) or relu, and norm1 and norm2 share
///    eps.
#ifndef TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_FUSED_H_
#define TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_FUSED_H_

#include "absl/status/statusor.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Rewrites every aten::_native_multi_head_attention and aten::_transformer_encoder_layer_fwd of
/// the graph (nested blocks included) into primitive aten ops; returns whether any was rewritten.
/// Errors (class kModel) name the op and the argument it cannot take (a non-constant flag, the
/// attention weights read with need_weights=False).
absl::StatusOr<bool> DecomposeFusedTransformerOps(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_FUSED_H_
