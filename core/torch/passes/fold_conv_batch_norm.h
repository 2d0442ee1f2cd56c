/// Folding an inference-mode batch_norm into the convolution that feeds it, in FP32.
///
/// LibTorch's own folding (freeze_module's numeric optimizations) computes in the model's dtype
/// and throws on half models ("rsqrt_cpu" not implemented for 'Half'); this pass computes the
/// folded weight and bias in FP32 whatever the model's dtype:
///
///   scale[c] = gamma[c] / sqrt(var[c] + eps)
///   w'[c]    = w[c] * scale[c]
///   b'[c]    = (b[c] - mean[c]) * scale[c] + beta[c]
///
/// The folded constants are named after the conv weight (`<w>.folded`, `<w>.folded_bias`).
#ifndef TS2COREML_CORE_TORCH_PASSES_FOLD_CONV_BATCH_NORM_H_
#define TS2COREML_CORE_TORCH_PASSES_FOLD_CONV_BATCH_NORM_H_

#include "absl/status/statusor.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Folds each batch_norm of `graph`'s top block into the convolution feeding it; returns whether
/// any was folded. Only when the conv output has no other user, all parameters are constants, the
/// conv is not transposed, batch_norm is in inference mode and its statistics are per output
/// channel. Errors are class kModel.
absl::StatusOr<bool> FoldConvBatchNorm(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_FOLD_CONV_BATCH_NORM_H_
