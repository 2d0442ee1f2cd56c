/// A lowered program written to a package in a private temporary folder and loaded in the
/// reference interpreter (core/interp): how `--precision auto` measures its candidate plans and
/// how calibration measures the vars that exist only in the FP32 program's MIL decomposition.
/// Used by the converter only.
///
///   ScratchDir scratch;
///   absl::StatusOr<interp::Interpreter> p = LoadInInterpreter(lowered, plan.options, scratch);
///   absl::StatusOr<interp::RunResult> r = p->Run(inputs);
#ifndef TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_
#define TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_

#include <filesystem>

#include "absl/status/statusor.h"
#include "core/convert/precision_plan.h"
#include "core/convert/program_emitter.h"
#include "core/interp/interpreter.h"

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

/// Writes `lowered` (planned with `options`: its target and precision label) to `scratch`,
/// replacing the package written there before, and loads it. Errors: kOutput when `scratch` has
/// no folder, else writing's or loading's own.
absl::StatusOr<interp::Interpreter> LoadInInterpreter(const LoweredProgram& lowered,
                                                      const PrecisionOptions& options,
                                                      const ScratchDir& scratch);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_INTERPRETED_PLAN_H_
