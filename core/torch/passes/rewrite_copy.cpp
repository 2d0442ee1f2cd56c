#include "core/torch/passes/rewrite_copy.h"

#include <set>
#include <string>
#include <vector>

namespace ts2coreml::core {
namespace {

bool IsFactory(const torch::jit::Node* n) {
  static const std::set<std::string> kFactories = {
      "aten::zeros",      "aten::ones",      "aten::full",      "aten::empty",
      "aten::zeros_like", "aten::ones_like", "aten::full_like", "aten::empty_like",
      "aten::new_zeros",  "aten::new_ones",  "aten::new_full",  "aten::new_empty"};
  return kFactories.count(n->kind().toQualString()) != 0;
}

/// Whether `n` copies a tensor into a fresh factory-made tensor that nothing used before.
bool Eligible(torch::jit::Node* n) {
  if (std::string(n->kind().toQualString()) != "aten::copy_" || n->inputs().size() < 2) {
    return false;
  }
  torch::jit::Value* self = n->input(0);
  torch::jit::Value* src = n->input(1);
  if (!src->type()->isSubtypeOf(*c10::TensorType::get()) || !IsFactory(self->node()) ||
      self->node()->owningBlock() != n->owningBlock()) {
    return false;
  }
  for (const torch::jit::Use& use : self->uses()) {
    if (use.user != n && !use.user->isAfter(n)) return false;
  }
  return true;
}

void Rewrite(torch::jit::Graph& graph, torch::jit::Node* n) {
  torch::jit::Value* self = n->input(0);
  torch::jit::WithInsertPoint guard(n);
  // graph.insert matches each op's schema and types its output, as the compiler does.
  torch::jit::Value* dtype = graph.insert(c10::prim::dtype, {self});
  torch::jit::Value* size = graph.insert(c10::aten::size, {self});
  torch::jit::Value* cast = graph.insert(c10::aten::to, {n->input(1), dtype, false, false});
  torch::jit::Value* wide = graph.insert(c10::aten::expand, {cast, size});
  torch::jit::Value* copy = graph.insert(c10::aten::clone, {wide});
  for (torch::jit::Value* v : {dtype, size, cast, wide, copy}) {
    v->node()->setSourceRange(n->sourceRange());
  }
  n->output()->replaceAllUsesWith(copy);
  self->replaceAllUsesAfterNodeWith(copy->node(), copy);
  n->destroy();
}

void CollectEligible(torch::jit::Block* block, std::vector<torch::jit::Node*>* out) {
  for (torch::jit::Node* n : block->nodes()) {
    if (Eligible(n)) out->push_back(n);
    for (torch::jit::Block* b : n->blocks()) CollectEligible(b, out);
  }
}

}  // namespace

bool RewriteCopyIntoFreshTensors(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> copies;
  CollectEligible(graph.block(), &copies);
  for (torch::jit::Node* n : copies) Rewrite(graph, n);
  return !copies.empty();
}

}  // namespace ts2coreml::core
