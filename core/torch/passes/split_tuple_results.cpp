#include "core/torch/passes/split_tuple_results.h"

#include <vector>

#include "torch/csrc/jit/passes/lower_tuples.h"

namespace ts2coreml::core {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

/// The tuple type of `v`, or null.
c10::TupleTypePtr TupleOf(const Value* v) { return v->type()->cast<c10::TupleType>(); }

/// Replaces output `i` of `b` by the elements of a prim::TupleUnpack of it, inserted last.
void UnpackBlockOutput(Block* b, size_t i) {
  Value* t = b->outputs()[i];
  Node* unpack = b->owningGraph()->createTupleUnpack(t);
  unpack->insertBefore(b->return_node());
  for (size_t j = 0; j < unpack->outputs().size(); ++j) {
    b->insertOutput(i + 1 + j, unpack->output(j));
  }
  b->eraseOutput(i);
}

/// Replaces output `i` of `n` by one output per element of its tuple type; what read it reads a
/// prim::TupleConstruct of them, inserted after `n`.
void SplitNodeOutput(Node* n, size_t i, const c10::TupleTypePtr& type) {
  std::vector<Value*> elements;
  for (size_t j = 0; j < type->elements().size(); ++j) {
    elements.push_back(n->insertOutput(i + 1 + j)->setType(type->elements()[j]));
  }
  Node* construct = n->owningGraph()->createTuple(elements, type->schema() ? type : nullptr);
  construct->insertAfter(n);
  n->output(i)->replaceAllUsesWith(construct->output());
  n->eraseOutput(i);
}

/// Splits result `i` of prim::If `n`.
void SplitIfResult(Node* n, size_t i) {
  const c10::TupleTypePtr type = TupleOf(n->output(i));
  for (Block* b : n->blocks()) UnpackBlockOutput(b, i);
  SplitNodeOutput(n, i, type);
}

/// Splits carried value `c` of prim::Loop `n` (loop input c + 2, body input and output c + 1,
/// loop output c).
void SplitLoopCarried(Node* n, size_t c) {
  const c10::TupleTypePtr type = TupleOf(n->output(c));
  const size_t k = type->elements().size();
  Node* unpack = n->owningGraph()->createTupleUnpack(n->input(c + 2));
  unpack->insertBefore(n);
  for (size_t j = 0; j < k; ++j) n->insertInput(c + 3 + j, unpack->output(j));
  n->removeInput(c + 2);
  Block* body = n->blocks()[0];
  std::vector<Value*> params;
  for (size_t j = 0; j < k; ++j) {
    params.push_back(body->insertInput(c + 2 + j)->setType(type->elements()[j]));
  }
  Node* rebuilt = n->owningGraph()->createTuple(params, type->schema() ? type : nullptr);
  body->prependNode(rebuilt);
  body->inputs()[c + 1]->replaceAllUsesWith(rebuilt->output());
  body->eraseInput(c + 1);
  UnpackBlockOutput(body, c + 1);
  SplitNodeOutput(n, c, type);
}

/// Splits the first tuple result or carried value of `n`; false when it has none.
bool SplitOne(Node* n) {
  if (n->kind() != c10::prim::If && n->kind() != c10::prim::Loop) return false;
  for (size_t i = 0; i < n->outputs().size(); ++i) {
    if (!TupleOf(n->output(i))) continue;
    if (n->kind() == c10::prim::If) {
      SplitIfResult(n, i);
    } else {
      SplitLoopCarried(n, i);
    }
    return true;
  }
  return false;
}

bool SplitInBlock(Block* block) {
  bool changed = false;
  for (Node* n : block->nodes()) {
    for (Block* b : n->blocks()) changed |= SplitInBlock(b);
    while (SplitOne(n)) changed = true;  // nested tuples split again as new outputs
  }
  return changed;
}

}  // namespace

bool SplitTupleResults(const std::shared_ptr<torch::jit::Graph>& graph) {
  if (!SplitInBlock(graph->block())) return false;
  torch::jit::LowerSimpleTuples(graph);
  return true;
}

}  // namespace ts2coreml::core
