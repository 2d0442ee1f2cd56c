/// Built-in lowerings of PyTorch's fused transformer kernels, which `torch.jit.trace` records
/// under `torch.no_grad()`: aten::_native_multi_head_attention (nn.MultiheadAttention's fast path,
/// e.g. torchvision's vit_b_16) and aten::_transformer_encoder_layer_fwd
/// (nn.TransformerEncoderLayer's fast path). Each becomes a composite of MIL linear/matmul,
/// reshape, transpose, softmax, layer_norm, gelu/relu and add with PyTorch's exact semantics.
#ifndef TS2COREML_PLUGINS_ATTENTION_ATTENTION_LOWERINGS_H_
#define TS2COREML_PLUGINS_ATTENTION_ATTENTION_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The attention family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* AttentionPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ATTENTION_ATTENTION_LOWERINGS_H_
