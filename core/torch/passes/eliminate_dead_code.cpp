#include "core/torch/passes/eliminate_dead_code.h"

#include "torch/csrc/jit/passes/dead_code_elimination.h"

namespace ts2coreml::core {

size_t CountNodes(torch::jit::Block* block) {
  size_t count = 0;
  for (torch::jit::Node* n : block->nodes()) {
    ++count;
    for (torch::jit::Block* b : n->blocks()) count += CountNodes(b);
  }
  return count;
}

absl::StatusOr<bool> EliminateDeadNodes(const std::shared_ptr<torch::jit::Graph>& graph) {
  const size_t before = CountNodes(graph->block());
  torch::jit::EliminateDeadCode(graph);
  return CountNodes(graph->block()) != before;
}

}  // namespace ts2coreml::core
