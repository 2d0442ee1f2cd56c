/// `ts2coreml registry` and `ts2coreml registry show OP`: what the loaded plugins lower.
///
///   ts2coreml registry [--json] [--plugin-dir DIR ...]
///       plugins (name, version, path, ABI), refused plugins with the reason, conflicts, and every
///       lowering: ops, schemas, plugin, priority, FP16 policy, infer rule, flags, inputs.
///   ts2coreml registry show OP [--json]
///       one op: the lowering that wins, every candidate and why it lost, in-place fallback.
///
/// The text and the --json keys are documented in docs/cli.md; the JSON keys are stable.
#ifndef TS2COREML_CORE_CLI_REGISTRY_COMMAND_H_
#define TS2COREML_CORE_CLI_REGISTRY_COMMAND_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// The usage text of the registry command.
std::string RegistryUsage();

/// Runs `ts2coreml registry ...` (args after "registry"); returns the exit code of docs/cli.md:
/// 0, 2 (usage), 3 (`show`: no loaded plugin lowers OP), 6 (`show`: OP's best claims conflict).
int RunRegistry(const std::vector<std::string>& args);

/// The listing of `ts2coreml registry`, as text or JSON. `dirs` are the folders searched.
std::string FormatRegistry(const registry::Registry& reg,
                           const std::vector<std::filesystem::path>& dirs, bool json);

/// Every resolution `show OP` reports: OP itself as Find resolves it and, for a name without an
/// overload, each overload claimed separately ("aten::add.Scalar"). Empty when none.
std::vector<registry::OpResolution> ResolutionsFor(const registry::Registry& reg,
                                                   const std::string& op);

/// The report of `ts2coreml registry show OP`, as text or JSON.
std::string FormatShow(const std::string& op, const std::vector<registry::OpResolution>& found,
                       bool json);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_REGISTRY_COMMAND_H_
