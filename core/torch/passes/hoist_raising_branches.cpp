#include "core/torch/passes/hoist_raising_branches.h"

#include <vector>

namespace ts2coreml::core {
namespace {

using torch::jit::Block;
using torch::jit::Node;

/// Whether `block` raises whenever it runs: a prim::RaiseException directly in it.
bool AlwaysRaises(const Block* block) {
  for (const Node* n : block->nodes()) {
    if (n->kind() == c10::prim::RaiseException) return true;
  }
  return false;
}

/// Moves the nodes of block `keep` of prim::If `n` after `n`, replaces `n`'s results by what
/// `keep` yields and drops them from `n` and both blocks.
void Hoist(Node* n, size_t keep) {
  Block* kept = n->blocks()[keep];
  std::vector<Node*> nodes(kept->nodes().begin(), kept->nodes().end());
  Node* after = n;
  for (Node* m : nodes) {
    m->moveAfter(after);
    after = m;
  }
  for (size_t k = n->outputs().size(); k-- > 0;) {
    n->output(k)->replaceAllUsesWith(kept->outputs()[k]);
    for (Block* b : n->blocks()) b->eraseOutput(k);
    n->eraseOutput(k);
  }
}

bool HoistInBlock(Block* block) {
  bool changed = false;
  std::vector<Node*> nodes(block->nodes().begin(), block->nodes().end());
  for (Node* n : nodes) {
    for (Block* b : n->blocks()) changed |= HoistInBlock(b);
    if (n->kind() != c10::prim::If || n->outputs().empty() || n->blocks().size() != 2) continue;
    const bool raises0 = AlwaysRaises(n->blocks()[0]);
    const bool raises1 = AlwaysRaises(n->blocks()[1]);
    if (raises0 == raises1) continue;
    Hoist(n, raises0 ? 1 : 0);
    changed = true;
  }
  return changed;
}

}  // namespace

bool HoistRaisingBranches(torch::jit::Graph& graph) { return HoistInBlock(graph.block()); }

}  // namespace ts2coreml::core
