/// Command-line parsing of `ts2coreml convert`, kept apart from main() so it is unit-tested.
#ifndef TS2COREML_CORE_CLI_CLI_ARGS_H_
#define TS2COREML_CORE_CLI_CLI_ARGS_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/cli/cli_common.h"
#include "core/convert/converter.h"

namespace ts2coreml::core {

struct ParsedCommand {
  std::string command;  ///< "convert", "coverage", "help", "version"
  CommonFlags common;
  /// The model, shapes and precision options (coverage uses all but the output fields).
  ConvertOptions convert;
  bool json = false;  ///< --json (coverage)
};

/// The most elements an input may have: 2^31 - 1, so that element counts and byte sizes of
/// every input fit the 32-bit and 64-bit arithmetic downstream.
inline constexpr int64_t kMaxInputElements = (int64_t{1} << 31) - 1;

/// Parses `NAME:SHAPE[:DTYPE]` ("x:1x3x224x224", "ids:1x128:int64"): at most rank 5 and
/// kMaxInputElements elements, each dimension positive; DTYPE one of fp32, fp16, int32, int64,
/// bool. Errors are class kInputSpec.
absl::StatusOr<InputSpec> ParseInputSpec(absl::string_view text);

/// Parses argv (without the program name). Errors are class kUsage or kInputSpec.
absl::StatusOr<ParsedCommand> ParseCommandLine(const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_CLI_ARGS_H_
