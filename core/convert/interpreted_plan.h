/// A precision plan lowered, written to a package in a private temporary folder and loaded in the
/// reference interpreter (core/interp): how `--precision auto` measures its candidate plans and
/// how calibration measures the vars that exist only in the FP32 program's MIL decomposition.
/// Used by the converter only.
///
///   ScratchDir scratch;
///   absl::StatusOr<InterpretedPlan> p = InterpretPlan(graph, analysis, plan, scratch);
///   absl::StatusOr<interp::RunResult> r = p->interp.Run(inputs);
#ifndef TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_
#define TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_

#include <filesystem>

#include "absl/status/statusor.h"
#include "core/convert/analysis.h"
#include "core/convert/precision_plan.h"
#include "core/convert/program_emitter.h"
#include "core/interp/interpreter.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// A private temporary folder, removed with its contents when the object dies; its path is
/// empty when it could not be made.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A plan's program, loaded in the interpreter, and the program it was written from (for the
/// var names and each op's node; callers drop it once read).
struct InterpretedPlan {
  interp::Interpreter interp;
  LoweredProgram lowered;
};

/// Lowers `plan` (for `graph`, analyzed as `analysis`), writes it to `scratch` (replacing the
/// package written there before) and loads it. Errors: kOutput when `scratch` has no folder,
/// else lowering's, writing's or loading's own.
absl::StatusOr<InterpretedPlan> InterpretPlan(Graph& graph, const Analysis& analysis,
                                              const PrecisionPlan& plan, const ScratchDir& scratch);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_
