/// `ts2coreml inspect PKG.mlpackage [--json]`.
#ifndef TS2COREML_CORE_CLI_INSPECT_COMMAND_H_
#define TS2COREML_CORE_CLI_INSPECT_COMMAND_H_

#include <string>
#include <vector>

namespace ts2coreml::core {

std::string InspectUsage();
/// Inspects a package; exit 0, or 8 for a malformed package.
int RunInspect(const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_INSPECT_COMMAND_H_
