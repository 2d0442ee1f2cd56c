#include "core/torch/canonicalize.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/graph_importer.h"
#include "core/torch/passes/decompose_complex.h"
#include "core/torch/passes/decompose_fused.h"
#include "core/torch/passes/eliminate_dead_code.h"
#include "core/torch/passes/fold_conv_batch_norm.h"
#include "core/torch/passes/fold_packed_sequences.h"
#include "core/torch/passes/inline_calls.h"
#include "core/torch/passes/remove_passthrough_ops.h"
#include "core/torch/passes/rewrite_copy.h"
#include "torch/csrc/jit/passes/constant_propagation.h"
#include "torch/csrc/jit/passes/freeze_module.h"

namespace ts2coreml::core {

std::vector<TorchPass> CanonicalizationPipeline(
    const CanonicalizeOptions& options, std::vector<std::optional<StaticInputType>> input_types) {
  std::set<std::string> passthrough = options.passthrough_ops;
  return {
      {"inline", [](std::shared_ptr<torch::jit::Graph>& g) { return InlineCalls(*g); }},
      {"decompose-fused-transformer-ops",
       [](std::shared_ptr<torch::jit::Graph>& g) { return DecomposeFusedTransformerOps(*g); }},
      // Before passthrough removal: a contiguous or clone of a complex value applies per part.
      {"decompose-complex",
       [input_types](std::shared_ptr<torch::jit::Graph>& g) {
         return DecomposeComplex(*g, input_types);
       }},
      // Before passthrough removal: the clone it leaves is removed unless written after.
      {"rewrite-copy-into-fresh-tensors",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         return RewriteCopyIntoFreshTensors(*g);
       }},
      {"remove-passthrough-ops",
       [passthrough](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         if (absl::Status s = RefuseTrainingDropouts(*g, passthrough); !s.ok()) return s;
         return RemovePassthroughOps(g, passthrough);
       }},
      // After passthrough removal (the chain's links are then direct), before scalar folding
      // (which folds the checks scripted code makes of the packed batch once it is redirected).
      {"fold-packed-sequences",
       [](std::shared_ptr<torch::jit::Graph>& g) { return FoldPackedSequences(*g); }},
      {"fold-constant-scalars",
       [](std::shared_ptr<torch::jit::Graph>& g) -> absl::StatusOr<bool> {
         // LibTorch's pass, on ops producing immutable values only (ints, floats, lists of
         // them): never tensors, so no weights are recomputed by LibTorch in the model's dtype.
         return torch::jit::ConstantPropagationImmutableTypes(g);
       }},
      {"fold-conv-batch-norm",
       [](std::shared_ptr<torch::jit::Graph>& g) { return FoldConvBatchNorm(*g); }},
      {"eliminate-dead-code",
       [](std::shared_ptr<torch::jit::Graph>& g) { return EliminateDeadNodes(g); },
       /*cleanup=*/true},
  };
}

absl::StatusOr<CanonicalModel> Canonicalize(torch::jit::Module module,
                                            const CanonicalizeOptions& options) {
  CanonicalModel out;
  try {
    module.eval();
    // Shares the module's tensors (no copy); no numeric optimizations.
    out.frozen = torch::jit::freeze_module(module);
    // Drop this handle: when the caller moved its module in, the frozen graph's constants are now
    // the only owners of the weights, so a constant replaced by a pass is freed with its node.
    module = torch::jit::Module();
    torch::jit::Method forward = out.frozen.get_method("forward");
    // The passes run on the frozen method's own graph, not a copy that would keep every replaced
    // constant alive until the end (docs/performance.md, "Where memory goes").
    out.graph = forward.graph();
    const c10::FunctionSchema& schema = forward.function().getSchema();
    for (size_t i = 1; i < schema.arguments().size(); ++i) {
      out.input_names.push_back(schema.arguments()[i].name());
    }
  } catch (const std::exception& e) {
    return Error(ErrorClass::kModel,
                 absl::StrCat("cannot freeze the model: ", FirstLine(e.what())));
  }
  for (const torch::jit::Node* n : out.graph->nodes()) {
    if (n->kind() != c10::prim::Constant && n->kind() != c10::prim::GetAttr) {
      ++out.kinds_before[n->kind().toQualString()];
    }
  }
  for (const TorchPass& pass :
       CanonicalizationPipeline(options, StaticInputTypes(out.input_names, options.inputs))) {
    if (pass.cleanup && out.changed_by.empty()) continue;
    try {
      absl::StatusOr<bool> changed = pass.run(out.graph);
      if (!changed.ok()) return changed.status();
      if (*changed) out.changed_by.emplace_back(pass.name);
    } catch (const std::exception& e) {
      return Error(ErrorClass::kModel, absl::StrCat("canonicalization pass ", pass.name,
                                                    " failed: ", FirstLine(e.what())));
    }
  }
  return out;
}

}  // namespace ts2coreml::core
