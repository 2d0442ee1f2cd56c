/// `ts2coreml convert --precision auto [--min-cosine C]`: converts in FP16 (with calibration's
/// plan), runs each candidate package in the reference interpreter (core/interp) against
/// LibTorch's outputs on the calibration inputs, and, while the target cosine is missed, keeps
/// the shortest FP32 prefix of the network (in graph order) that reaches it: FP16's error on an
/// untrained or deep network accumulates from the start, and an unbroken FP32 prefix removes the
/// most of it per op (docs/verify.md, the fcn_resnet50 example). The final plan is then measured
/// on held-back inputs (verify's seeds 0, 1, 2, apart from calibration's), and reported with the
/// --keep-fp32 rules that reproduce it without search. Used by the converter only.
///
///   absl::StatusOr<PrecisionSearch> s = SearchPrecision(graph, analysis, options, refs, 0.9999);
#ifndef TS2COREML_CORE_CONVERT_PRECISION_SEARCH_H_
#define TS2COREML_CORE_CONVERT_PRECISION_SEARCH_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/convert/analysis.h"
#include "core/convert/calibrate.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// One candidate plan the search measured.
struct SearchTrial {
  int prefix = 0;  ///< how many of the FP16 candidate ops, from the start, were FP32
  double cosine = 0;
};

/// What the search found and how.
struct PrecisionSearch {
  double target = 0;
  std::set<int> fp32_nodes;   ///< nodes moved to FP32 (none when plain FP16 reaches the target)
  double cosine = 0;          ///< worst over the calibration runs and outputs
  double holdout_cosine = 0;  ///< the same on the held-back runs
  int calibration_runs = 0, holdout_runs = 0;
  bool reached = false;          ///< the target on the calibration runs
  bool holdout_reached = false;  ///< and on the held-back runs
  std::vector<SearchTrial> trials;
  int interpreter_runs = 0;
  double seconds = 0;
  int ops = 0, fp16_ops = 0;         ///< planned float nodes
  double flops = 0, fp16_flops = 0;  ///< estimated (coverage_report.h)
  int transitions = 0;               ///< run-time casts between fp16 and fp32
  std::vector<std::string> rules;    ///< --keep-fp32 rules reproducing fp32_nodes
  std::string rules_note;            ///< why the rules are not exact, if they are not

  /// Several lines for the convert summary.
  std::string Summary() const;
};

/// Searches the plan for `graph` (analyzed as `analysis`) from `base` (FP16, with calibration),
/// measured on `references`. Writes candidate packages in a private temporary folder.
absl::StatusOr<PrecisionSearch> SearchPrecision(Graph& graph, const Analysis& analysis,
                                                const PrecisionOptions& base,
                                                const ReferenceRuns& references, double min_cosine);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PRECISION_SEARCH_H_
