/// The conversion pipeline: TorchScript file in, .mlpackage out, with a report of every decision.
///
/// Phases, in order: load (LibTorch), canonicalize (freeze + pass list), import (into core::Graph),
/// analyze (dispatch + type inference), plan precision, lower (MIL + casts), write (package).
/// Each phase is timed; nothing is written unless every phase before `write` succeeded.
#ifndef TS2COREML_CORE_CONVERT_CONVERTER_H_
#define TS2COREML_CORE_CONVERT_CONVERTER_H_

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/metadata_keys.h"
#include "core/convert/analysis.h"
#include "core/convert/calibration.h"
#include "core/convert/dtype_ops.h"
#include "core/convert/precision_plan.h"
#include "core/convert/program_emitter.h"
#include "core/mil/package_writer.h"
#include "core/report/coverage_report.h"
#include "registry/registry.h"

namespace ts2coreml::core {

struct ReferenceRuns;  // core/convert/calibrate.h

struct ConvertOptions {
  std::filesystem::path model;
  std::filesystem::path output;
  std::vector<InputSpec> inputs;
  std::vector<std::string> output_names;
  PrecisionOptions precision;
  /// --calibrate / --calibration-data: measure the model before planning (calibration.h).
  CalibrationRequest calibration;
  /// --precision auto: search the plan reaching `min_cosine` (precision_search.h).
  bool precision_auto = false;
  double min_cosine = 0.9999;
  bool force = false;
  /// When false, Convert does not free the model's weights, graph and program when it returns
  /// but keeps them until the process ends (KeepUntilExit): for a CLI that exits right after and
  /// skips teardown (core/base/process_exit.h). Library callers keep the default.
  bool free_memory_on_return = true;
};

struct PhaseTime {
  std::string name;
  double seconds = 0;
  /// The process's peak resident set size (VmHWM) when the phase ended, in bytes; 0 where
  /// /proc/self/status cannot be read. Shows which phase sets the peak.
  uint64_t peak_rss_bytes = 0;
};

/// One row of the MIL op table: how many ops of a type compute in a dtype.
struct OpCount {
  std::string type;
  mil::DType dtype = mil::DType::kInvalid;
  int count = 0;
};

/// Everything the summary shows, also the data behind `--json` reports.
struct ConversionReport {
  std::filesystem::path model;
  std::filesystem::path output;
  PrecisionOptions precision;
  std::vector<mil::FeatureSpec> inputs;
  std::vector<mil::FeatureSpec> outputs;
  /// TorchScript node kinds of the frozen graph before and after the canonicalization passes.
  std::map<std::string, int> kinds_loaded;
  std::map<std::string, int> kinds_canonical;
  std::vector<std::string> passes_changed;
  /// Decisions over graph nodes: decision name -> count.
  std::map<std::string, int> decisions;
  /// Nodes that compute in FP32 under fp16, with their reason: (kind, reason) -> count.
  std::map<std::pair<std::string, std::string>, int> fp32_nodes;
  std::vector<OpCount> ops;  ///< MIL ops without consts, by type then dtype
  std::vector<EmittedCast> casts;
  std::vector<std::string> warnings;
  mil::WriteStats write;
  std::vector<PhaseTime> phases;
  /// Of the lower phase: checking each emitted op against Core ML's opset.
  double validate_seconds = 0;
  /// What calibration measured and decided, one line; empty without calibration.
  std::string calibration;
  /// What --precision auto found (PrecisionSearch::Summary); empty without it.
  std::string search;
};

/// A model loaded, canonicalized, imported and analyzed: what convert and coverage share.
struct PreparedModel {
  Graph graph;
  Analysis analysis;
  /// The forward() arguments the graph evidently uses as integers (dtype_ops.h).
  std::map<ValueId, IntegerUse> integer_uses;
  /// What calibration measured, when ConvertOptions::calibration asked for it.
  std::optional<Calibration> calibration;
  /// The calibration and held-back runs' inputs and LibTorch outputs, for --precision auto.
  std::shared_ptr<ReferenceRuns> references;
};

/// Runs load, canonicalize, import and analyze, recording canonicalization facts, analysis
/// decisions and phase times in `report`. Analysis problems are not an error here (see
/// AnalysisStatus). With `allow_unshaped_inputs`, forward() arguments without --input are
/// imported untyped (coverage without shapes).
absl::StatusOr<PreparedModel> PrepareModel(const ConvertOptions& options,
                                           const registry::Registry& registry,
                                           bool allow_unshaped_inputs, ConversionReport* report);

/// Converts a model. `registry` provides the lowerings (its passthrough ops and custom schemas
/// are used while loading and canonicalizing).
absl::StatusOr<ConversionReport> Convert(const ConvertOptions& options,
                                         const registry::Registry& registry);

/// Loads, canonicalizes, analyzes and plans `options.model` without lowering or writing
/// anything: the FP16 coverage report. Missing --input shapes are allowed (dtypes then follow the
/// lowerings' policies). Unsupported ops are in the report, not an error.
absl::StatusOr<CoverageReport> Coverage(const ConvertOptions& options,
                                        const registry::Registry& registry);

/// The human-readable conversion summary.
std::string FormatSummary(const ConversionReport& report);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_CONVERTER_H_
