/// Dead-code elimination: nodes whose results nobody reads and that write nothing go.
///
/// A clean-up after the passes that replace nodes (the constants a fold replaced, the size and
/// dtype reads a rewrite left unused); freezing leaves the graph clean, so the pipeline skips it
/// when no earlier pass changed the graph.
#ifndef TS2COREML_CORE_TORCH_PASSES_ELIMINATE_DEAD_CODE_H_
#define TS2COREML_CORE_TORCH_PASSES_ELIMINATE_DEAD_CODE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Nodes in `block` and in the blocks nested in it.
size_t CountNodes(torch::jit::Block* block);

/// Runs LibTorch's dead-code elimination on `graph`; returns whether it removed any node
/// (nested blocks counted).
absl::StatusOr<bool> EliminateDeadNodes(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_ELIMINATE_DEAD_CODE_H_
