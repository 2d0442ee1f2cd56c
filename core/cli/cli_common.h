/// What every CLI command shares: plugin loading, common flags, error reporting.
///
/// A command is a function `int RunX(const std::vector<std::string>& args)` (args after the
/// command name) listed in main.cpp's command table; it returns the exit code of docs/cli.md.
#ifndef TS2COREML_CORE_CLI_CLI_COMMON_H_
#define TS2COREML_CORE_CLI_CLI_COMMON_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// Options every command takes.
struct CommonFlags {
  std::vector<std::filesystem::path> plugin_dirs;
  bool allow_insecure_plugins = false;
  bool quiet = false;
};

/// If args[*i] is a common flag, consumes it (and its value) into `flags` and returns true.
/// A flag missing its value sets `*error`.
bool ParseCommonFlag(const std::vector<std::string>& args, size_t* i, CommonFlags* flags,
                     absl::Status* error);

/// Loads plugins from the built-in folder, TS2COREML_PLUGIN_PATH and --plugin-dir, printing a
/// warning line on stderr for every refused plugin or unusable folder (unless `quiet`).
registry::Registry LoadPlugins(const CommonFlags& flags);

/// Prints "ts2coreml: error: <message>" and returns the status's exit code.
int ReportError(const absl::Status& status);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_CLI_COMMON_H_
