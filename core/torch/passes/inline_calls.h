/// Inlining of method and function calls, so that the graph is one flat forward().
///
///   %y = prim::CallMethod[name="forward"](%self.layer1, %x)  ->  the layer's nodes, inline
#ifndef TS2COREML_CORE_TORCH_PASSES_INLINE_CALLS_H_
#define TS2COREML_CORE_TORCH_PASSES_INLINE_CALLS_H_

#include "absl/status/statusor.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Inlines every prim::CallMethod and prim::CallFunction of `graph` (nested blocks included)
/// with LibTorch's inliner; returns whether there was any.
absl::StatusOr<bool> InlineCalls(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_INLINE_CALLS_H_
