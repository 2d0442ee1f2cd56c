/// The FP16 coverage report: what `ts2coreml coverage` prints before anything is converted.
///
/// Built from an analyzed graph and its precision plan: every TorchScript op kind with its count,
/// the lowering (plugin and version) that takes it, the planned compute dtype and, where not FP16,
/// why; every unsupported op with its source location and a hint; the share of ops and of
/// estimated FLOPs that run in FP16.
#ifndef TS2COREML_CORE_REPORT_COVERAGE_REPORT_H_
#define TS2COREML_CORE_REPORT_COVERAGE_REPORT_H_

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/convert/analysis.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// One TorchScript op kind.
struct OpKindCoverage {
  std::string kind;  ///< qualified kind ("aten::add.Tensor")
  int count = 0;
  std::string decision;  ///< lowered / folded / unsupported / error / skipped
  std::string lowering;  ///< "plugin/lowering", empty for core-folded or unsupported ops
  std::string plugin_version;
  std::string fp16_policy;
  /// Planned compute dtype -> number of nodes ("fp16", "fp32", "int32", "bool"; "fp16?" etc.
  /// when shapes are unknown and the dtype follows from the policy alone).
  std::map<std::string, int> compute_dtypes;
  /// Why nodes of this kind are not FP16.
  std::set<std::string> reasons;
};

/// One node of the graph.
struct NodeCoverage {
  int index = 0;
  std::string kind;
  std::string source;
  std::string scope;
  std::string decision;
  std::string lowering;
  std::string compute_dtype;         ///< empty when not planned
  std::string reason;                ///< why that dtype, or why not lowered
  std::vector<std::string> outputs;  ///< TorchScript value names
  double flops = 0;                  ///< estimated, 0 when unknown
};

struct UnsupportedOp {
  std::string kind;
  std::string source;
  std::string scope;
  std::string hint;
};

struct CoverageReport {
  std::filesystem::path model;
  PrecisionOptions precision;
  bool shapes_known = true;
  std::vector<OpKindCoverage> ops;  ///< sorted by kind
  std::vector<NodeCoverage> nodes;  ///< graph order
  std::vector<UnsupportedOp> unsupported;
  std::vector<std::string> errors;  ///< analysis errors other than unsupported ops
  std::vector<std::string> warnings;
  int lowered_nodes = 0;
  int fp16_nodes = 0;
  double flops = 0;
  double fp16_flops = 0;
  /// Planned casts between fp16 and fp32 of values computed in the program (device hand-overs;
  /// not weights, model inputs or outputs).
  int transitions = 0;

  bool covered() const { return unsupported.empty() && errors.empty(); }
};

/// Builds the report. `plan` may be null (planning was impossible); dtypes then follow the
/// lowerings' policies.
CoverageReport BuildCoverageReport(const Graph& graph, const Analysis& analysis,
                                   const PrecisionPlan* plan, const registry::Registry& registry);

/// Estimated floating-point operations of one node (multiply-adds count 2): convolutions and
/// matrix products from their shapes, everything else one per output element.
double EstimateFlops(const Graph& graph, const Node& node);

std::string FormatCoverageText(const CoverageReport& report);
/// JSON with the keys documented in docs/cli.md.
std::string FormatCoverageJson(const CoverageReport& report);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_REPORT_COVERAGE_REPORT_H_
