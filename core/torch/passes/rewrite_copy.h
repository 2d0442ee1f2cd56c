/// In-place copies of run-time values into tensors the model makes itself, rewritten as values.
///
/// `y = torch.zeros(2, 3); y.copy_(x)` writes run-time data into a tensor made at conversion time
/// (folded to a constant by analysis, which refuses run-time writes into constants). When `y` is
/// made by a factory op (zeros, ones, full, empty and their _like / new_ forms) and copy_ is its
/// first use, the copy is y's whole new contents: copy_ becomes
///
///   %d = prim::dtype(%y); %s = aten::size(%y)
///   %c = aten::clone(aten::expand(aten::to(%x, %d, False, False, None), %s, False), None)
///
/// (x cast to y's dtype and broadcast to y's shape, as copy_ does), and every later reader of y
/// and of copy_'s result reads %c. A copy_ into a view, into a tensor read before, or from a
/// number (copy_.int / .float, folded as a fill) is left alone.
#ifndef TS2COREML_CORE_TORCH_PASSES_REWRITE_COPY_H_
#define TS2COREML_CORE_TORCH_PASSES_REWRITE_COPY_H_

#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Rewrites each eligible aten::copy_ of `graph` (nested blocks included); returns whether any.
bool RewriteCopyIntoFreshTensors(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_REWRITE_COPY_H_
