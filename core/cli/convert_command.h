/// `ts2coreml convert MODEL.pt -o OUT.mlpackage --input NAME:SHAPE [...]`: converts a TorchScript
/// model to a Core ML ML Program package (core/convert/converter.h) and prints its summary. The
/// options are parsed by ParseCommandLine and documented by ConvertUsage (command_usage.h).
#ifndef TS2COREML_CORE_CLI_CONVERT_COMMAND_H_
#define TS2COREML_CORE_CLI_CONVERT_COMMAND_H_

#include <string>
#include <vector>

namespace ts2coreml::core {

/// Runs `ts2coreml convert` (args after the command name); returns the exit code of docs/cli.md.
int RunConvert(const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_CONVERT_COMMAND_H_
