#include "core/torch/passes/remove_passthrough_ops.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "torch/csrc/jit/ir/alias_analysis.h"
#include "torch/csrc/jit/ir/constants.h"

namespace ts2coreml::core {
namespace {

/// How a node matches the passthrough ops.
enum class PassthroughMatch { kNone, kFunctional, kInPlace };

/// Whether `n` is one of `ops`, or the in-place variant (`relu_`, not a dunder such as
/// `__and__`) of one, with one tensor output read from tensor input 0.
PassthroughMatch MatchPassthrough(torch::jit::Node* n, const std::set<std::string>& ops) {
  const std::string kind = n->kind().toQualString();
  PassthroughMatch match =
      ops.count(kind) != 0 ? PassthroughMatch::kFunctional : PassthroughMatch::kNone;
  const bool dunder = kind.size() > 2 && kind.compare(kind.size() - 2, 2, "__") == 0;
  if (match == PassthroughMatch::kNone && !dunder && !kind.empty() && kind.back() == '_' &&
      ops.count(kind.substr(0, kind.size() - 1)) != 0) {
    match = PassthroughMatch::kInPlace;
  }
  if (match == PassthroughMatch::kNone || n->outputs().size() != 1 || n->inputs().empty() ||
      !n->input(0)->type()->isSubtypeOf(*c10::TensorType::get()) ||
      !n->output()->type()->isSubtypeOf(*c10::TensorType::get())) {
    return PassthroughMatch::kNone;
  }
  return match;
}

/// Answers "is x or y written in place after node n?" for nodes visited in graph order. The
/// nodes that may write to memory (in-place ops, nodes with blocks) are listed once, in graph
/// order, and a node is checked against the writers after it only, not every later node, so a
/// long graph without in-place ops costs linear time. Alias analysis is built on the first query.
class LaterWriters {
 public:
  explicit LaterWriters(std::shared_ptr<torch::jit::Graph> graph) : graph_(std::move(graph)) {}

  /// Moves past the writers that are not after `n` (call for every node, in order).
  void Visit(torch::jit::Node* n) {
    while (passed_ < writers_.size() && !n->isBefore(writers_[passed_])) ++passed_;
  }

  /// Whether a writer after the last visited node `n` writes to `n`'s input 0 or output.
  bool WritesInputOrOutput(torch::jit::Node* n) {
    if (!aliases_) {
      aliases_ = std::make_unique<torch::jit::AliasDb>(graph_);
      for (torch::jit::Node* w : graph_->nodes()) {
        if (!w->blocks().empty() || aliases_->isMutable(w)) writers_.push_back(w);
      }
      Visit(n);
    }
    const torch::jit::ValueSet both = {n->input(0), n->output()};
    for (size_t w = passed_; w < writers_.size(); ++w) {
      if (aliases_->writesToAlias(writers_[w], both)) return true;
    }
    return false;
  }

 private:
  std::shared_ptr<torch::jit::Graph> graph_;
  std::unique_ptr<torch::jit::AliasDb> aliases_;
  std::vector<torch::jit::Node*> writers_;
  size_t passed_ = 0;
};

}  // namespace

absl::Status RefuseTrainingDropouts(torch::jit::Graph& graph, const std::set<std::string>& ops) {
  for (torch::jit::Node* n : graph.nodes()) {
    const std::string kind = n->kind().toQualString();
    const std::string base = kind.back() == '_' ? kind.substr(0, kind.size() - 1) : kind;
    if (ops.count(base) == 0 || base.find("dropout") == std::string::npos) continue;
    if (n->inputs().size() < 3) continue;
    auto train = torch::jit::toIValue(n->input(2));
    if (!train || !train->isBool() || !train->toBool()) continue;
    auto p = torch::jit::toIValue(n->input(1));
    if (p && (p->isDouble() || p->isInt()) && p->toScalar().toDouble() == 0.0) continue;
    return Error(
        ErrorClass::kModel,
        absl::StrCat(
            kind,
            ": train=True draws a random mask, which is not converted; call model.eval() (or pass training=False) before tracing"));
  }
  return absl::OkStatus();
}

bool RemovePassthroughOps(const std::shared_ptr<torch::jit::Graph>& graph,
                          const std::set<std::string>& ops) {
  std::vector<torch::jit::Node*> removable;
  LaterWriters later_writers(graph);
  for (torch::jit::Node* n : graph->nodes()) {
    later_writers.Visit(n);
    const PassthroughMatch match = MatchPassthrough(n, ops);
    if (match == PassthroughMatch::kNone) continue;
    // Removing y = x.clone() (or contiguous, detach) makes y an alias of x, which is wrong once
    // either is written in place after it (y[0] = 0 must leave x alone): such nodes stay.
    if (match == PassthroughMatch::kFunctional && later_writers.WritesInputOrOutput(n)) continue;
    removable.push_back(n);
  }
  for (torch::jit::Node* n : removable) {
    n->output()->replaceAllUsesWith(n->input(0));
    n->destroy();
  }
  return !removable.empty();
}

}  // namespace ts2coreml::core
