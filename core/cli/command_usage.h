/// The usage texts of the commands that read TorchScript (convert, coverage, verify). They live
/// apart from the commands so that `ts2coreml help`, which never loads LibTorch, prints them from
/// the executable while the commands run in the LibTorch commands' library
/// (core/cli/torch_commands.h).
#ifndef TS2COREML_CORE_CLI_COMMAND_USAGE_H_
#define TS2COREML_CORE_CLI_COMMAND_USAGE_H_

#include <string>

namespace ts2coreml::core {

/// The usage text of convert.
std::string ConvertUsage();

/// The usage text of coverage.
std::string CoverageUsage();

/// The usage text of verify.
std::string VerifyUsage();

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_COMMAND_USAGE_H_
