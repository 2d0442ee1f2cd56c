#include "core/convert/interpreted_plan.h"

#include <stdlib.h>

#include <string>
#include <system_error>

#include "core/base/errors.h"
#include "core/base/metadata_keys.h"
#include "core/mil/package_writer.h"

namespace ts2coreml::core {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  std::string tmpl = (fs::temp_directory_path() / "ts2coreml-auto-XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

absl::StatusOr<interp::Interpreter> LoadInInterpreter(const LoweredProgram& lowered,
                                                      const PrecisionOptions& options,
                                                      const ScratchDir& scratch) {
  if (scratch.path().empty()) {
    return Error(ErrorClass::kOutput, "cannot make a temporary folder for the interpreter");
  }
  mil::ModelSpec spec;
  spec.specification_version = SpecificationVersion(options.target);
  spec.inputs = lowered.inputs;
  spec.outputs = lowered.outputs;
  spec.user_defined[kPrecisionKey] = options.precision == Precision::kFp16 ? "fp16" : "fp32";
  const fs::path pkg = scratch.path() / "candidate.mlpackage";
  std::error_code ec;
  fs::remove_all(pkg, ec);
  absl::StatusOr<mil::WriteStats> written = mil::WritePackageDir(spec, lowered.main, pkg);
  if (!written.ok()) return written.status();
  return interp::Interpreter::Load(pkg);
}

}  // namespace ts2coreml::core
