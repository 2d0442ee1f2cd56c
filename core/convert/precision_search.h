/// `ts2coreml convert --precision auto [--min-cosine C]`: converts in FP16 (with calibration's
/// plan), runs each candidate package in the reference interpreter (core/interp) against
/// LibTorch on the calibration inputs and, while the target cosine is missed, moves ops to FP32
/// by two rules, both measured:
///   - localize's blame: the ops whose error jumps in plain FP16 (error_growth.h), compared
///     value by value with LibTorch's on the first calibration run;
///   - the prefix rule: the shortest FP32 prefix of the network (in graph order) that reaches the
///     target, found by bisection; FP16's error on an untrained or deep network accumulates from
///     the start, and an unbroken FP32 prefix removes the most of it per op (docs/verify.md).
/// Plans are probed on the first calibration run and confirmed on the others; a plan meets the
/// target when its worst calibration run, lowered by the runs' spread, reaches it
/// (precision_search_rule.h: the margin the next inputs need). Of the plans that meet it, the
/// one keeping the most estimated FLOPs in FP16 is chosen. It is then measured on held-back inputs
/// (verify's seeds 0, 1, 2, apart from calibration's) and reported with the --keep-fp32 rules that
/// reproduce it without search. Used by the converter only.
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
#include "core/convert/precision_search_rule.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// The rule that chose the ops a plan keeps FP32.
enum class SearchRule {
  kNone,    ///< plain FP16 (with calibration's plan)
  kPrefix,  ///< the first k of the FP16 ops in graph order
  kBlame,   ///< the ops whose error jumps in plain FP16
};

/// One candidate plan the search measured.
struct SearchTrial {
  SearchRule rule = SearchRule::kNone;
  int fp32_ops = 0;    ///< the prefix length, or how many ops were blamed
  RunCosines cosines;  ///< on the runs measured (each run's worst output)
};

/// What the search found and how.
struct PrecisionSearch {
  double target = 0;
  std::set<int> fp32_nodes;   ///< nodes moved to FP32 (none when plain FP16 reaches the target)
  double cosine = 0;          ///< worst over the calibration runs and outputs
  double spread = 0;          ///< between the best and the worst calibration run
  double holdout_cosine = 0;  ///< the same on the held-back runs
  int calibration_runs = 0, holdout_runs = 0;
  bool reached = false;  ///< the target, with the runs' spread as margin, on the calibration runs
  bool holdout_reached = false;         ///< and on the held-back runs
  SearchRule rule = SearchRule::kNone;  ///< the rule of the chosen plan
  std::string choice;                   ///< why that rule: what the other one measured
  std::vector<SearchTrial> trials;
  int interpreter_runs = 0;
  double seconds = 0;
  double lower_seconds = 0;          ///< planning, lowering, writing and loading candidates
  double interpreter_seconds = 0;    ///< running them
  int ops = 0, fp16_ops = 0;         ///< planned float nodes
  double flops = 0, fp16_flops = 0;  ///< estimated (coverage_report.h)
  int transitions = 0;               ///< run-time casts between fp16 and fp32
  std::vector<std::string> rules;    ///< --keep-fp32 rules reproducing fp32_nodes
  std::string rules_note;            ///< why the rules are not exact, if they are not

  /// Several lines for the convert summary.
  std::string Summary() const;
  /// The reason the planner gives the ops moved to FP32 (by the chosen rule).
  std::string Reason() const;
};

/// Searches the plan for `graph` (analyzed as `analysis`) from `base` (FP16, with calibration),
/// measured on `references`. Writes candidate packages in a private temporary folder.
absl::StatusOr<PrecisionSearch> SearchPrecision(Graph& graph, const Analysis& analysis,
                                                const PrecisionOptions& base,
                                                const ReferenceRuns& references, double min_cosine);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PRECISION_SEARCH_H_
