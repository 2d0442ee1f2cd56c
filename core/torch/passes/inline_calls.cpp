#include "core/torch/passes/inline_calls.h"

#include "torch/csrc/jit/passes/inliner.h"

namespace ts2coreml::core {
namespace {

/// Whether a block (or a block nested in it) calls a method or function.
bool HasCalls(torch::jit::Block* block) {
  for (torch::jit::Node* n : block->nodes()) {
    if (n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction) return true;
    for (torch::jit::Block* b : n->blocks()) {
      if (HasCalls(b)) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> InlineCalls(torch::jit::Graph& graph) {
  if (!HasCalls(graph.block())) return false;
  torch::jit::Inline(graph);
  return true;
}

}  // namespace ts2coreml::core
