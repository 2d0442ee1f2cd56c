/// Analysis: dispatch every node to its lowering and propagate static types through the graph.
///
/// Walks the imported graph once, in order. Core ops and shape arithmetic are folded on the host
/// (constant_evaluator.h), and so are input-independent ATen ops when a HostEvaluator is given
/// (host_evaluator.h); every other node is matched to a lowering by schema name and overload
/// and its output types come from the lowering's declared infer rule or infer callback. Nothing
/// that reads input data is run: custom ops have no kernel, and running costs more than
/// converting. Every unsupported op is collected, so one run reports all of them.
#ifndef TS2COREML_CORE_CONVERT_ANALYSIS_H_
#define TS2COREML_CORE_CONVERT_ANALYSIS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/errors.h"
#include "core/convert/host_evaluator.h"
#include "core/ir/graph.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// What happens to a node, decided during analysis.
enum class NodeDecision {
  kLowered,      ///< a lowering will emit MIL for it
  kFolded,       ///< evaluated on the host (shape arithmetic, lists, constants)
  kUnsupported,  ///< no loaded plugin lowers it
  kError,        ///< a lowering exists but refused the node or failed to infer its types
  kSkipped,      ///< not analyzed because an input comes from an unsupported or failed node
};
absl::string_view NodeDecisionName(NodeDecision d);

struct NodeAnalysis {
  NodeDecision decision = NodeDecision::kSkipped;
  const registry::Lowering* lowering = nullptr;
  /// The op key the lowering matched ("aten::add.Tensor").
  std::string matched;
  /// Why, for kUnsupported / kError / kSkipped: one line naming the node and what to do.
  std::string reason;
  std::vector<std::string> warnings;
};

/// One problem found by analysis.
struct Problem {
  int node = -1;
  NodeDecision decision = NodeDecision::kError;
  std::string kind;    ///< qualified op kind
  std::string source;  ///< TorchScript source location
  std::string message;
  ErrorClass error_class = ErrorClass::kConversion;
};

struct Analysis {
  std::vector<NodeAnalysis> nodes;  ///< one per graph node
  /// Unsupported ops and errors, in graph order (skipped nodes are not repeated here).
  std::vector<Problem> problems;
  /// How many readers each graph value had when analysis started (output_is_used).
  std::vector<int> uses;
  bool ok() const { return problems.empty(); }
};

/// Analyzes `graph` in place (types and folded constants are written into its values). With a
/// `host` evaluator, nodes that read no run-time data (ReadsOnlyConstants) are evaluated on the
/// host first and become constants, lowering or no lowering (host_evaluator.h); an in-place write
/// into such a constant gives the written values new versions that later readers read.
Analysis Analyze(Graph& graph, const registry::Registry& registry, HostEvaluator* host = nullptr);

/// The first problem as a Status (class kUnsupportedOps when every problem is an unsupported op,
/// else the class of the first error), with a one-line message listing all unsupported ops.
absl::Status AnalysisStatus(const Analysis& analysis);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_ANALYSIS_H_
