/// Canonicalization: a frozen, inlined TorchScript graph in the form lowering expects.
///
/// One explicit, ordered pass list (CanonicalizationPipeline, the one place that orders them) runs
/// after freezing; each pass lives in its own file under core/torch/passes/. Freezing uses
/// LibTorch's freeze_module only, never its numeric optimizations: those fold batch_norm into conv
/// in the model's dtype and throw on half models ("rsqrt_cpu" not implemented for 'Half'). Our own
/// FoldConvBatchNorm pass (passes/fold_conv_batch_norm.h) folds in FP32 instead.
#ifndef TS2COREML_CORE_TORCH_CANONICALIZE_H_
#define TS2COREML_CORE_TORCH_CANONICALIZE_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/ir/graph.h"
#include "core/torch/control_flow.h"
#include "torch/csrc/jit/api/module.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

struct CanonicalizeOptions {
  /// Ops that are identities in inference (declared T2C_LOWERING_PASSTHROUGH by plugins).
  std::set<std::string> passthrough_ops;
  /// The --input specs (by forward() argument name): the shapes passes that need static sizes
  /// (decompose-complex, for a loaded model whose graph has no sizes) work from.
  std::vector<InputSpec> inputs;
};

/// One graph pass: returns whether it changed the graph.
struct TorchPass {
  absl::string_view name;
  std::function<absl::StatusOr<bool>(std::shared_ptr<torch::jit::Graph>&)> run;
  /// A clean-up pass: skipped when no earlier pass changed the graph (freezing leaves it clean).
  bool cleanup = false;
};

/// The ordered pass list run after freezing; `input_types[i]` is forward() argument i's static
/// type (options.inputs resolved by name, StaticInputTypes in graph_importer.h), or nullopt.
std::vector<TorchPass> CanonicalizationPipeline(
    const CanonicalizeOptions& options,
    std::vector<std::optional<StaticInputType>> input_types = {});

/// What canonicalization produced.
struct CanonicalModel {
  torch::jit::Module frozen;  ///< keeps constant tensors alive
  std::shared_ptr<torch::jit::Graph> graph;
  /// forward() argument names, without self.
  std::vector<std::string> input_names;
  /// Names of passes that changed the graph, in order (for the summary).
  std::vector<std::string> changed_by;
  /// Op kinds (constants and attribute reads left out) of the frozen graph before the passes.
  std::map<std::string, int> kinds_before;
};

/// Freezes `module` and runs the pipeline on the frozen forward graph itself. The frozen module
/// shares the module's tensors; hand the module over (`std::exchange(m, torch::jit::Module())`:
/// Module has no move constructor, so std::move copies the handle) so that weights a pass replaces
/// (conv+BN folding) are freed as it goes instead of being held twice.
/// Errors are class kModel.
absl::StatusOr<CanonicalModel> Canonicalize(torch::jit::Module module,
                                            const CanonicalizeOptions& options);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_CANONICALIZE_H_
