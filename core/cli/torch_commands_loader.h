/// Loading the LibTorch commands' library (core/cli/torch_commands.h) on demand.
///
/// The library sits at `<dir of the executable>/../lib/ts2coreml/libts2coreml_torch_commands.so`
/// in the build and install trees, found through /proc/self/exe as the built-in plugins are. It is
/// opened as the registry opens a plugin (registry/plugin_security.h): a walk from `/` without
/// following links, every directory and the file owned by root or the user and not group- or
/// world-writable (unless --allow-insecure-plugins), then dlopen of `/proc/self/fd/N`, so the file
/// checked is the file loaded.
///
///   int code = RunTorchCommand("convert", args);  // args after the command name
#ifndef TS2COREML_CORE_CLI_TORCH_COMMANDS_LOADER_H_
#define TS2COREML_CORE_CLI_TORCH_COMMANDS_LOADER_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cli/torch_commands.h"

namespace ts2coreml::core {

/// The library relative to the directory of the executable.
inline constexpr char kTorchCommandsLibraryFromExe[] =
    "../lib/ts2coreml/libts2coreml_torch_commands.so";

/// The library's path for the executable `exe`.
std::filesystem::path TorchCommandsLibraryPath(const std::filesystem::path& exe);

/// Opens `library` (checking permissions unless `allow_insecure`), loads it and returns its
/// entry point. Errors are class kInternal, one line starting with the library's path and saying
/// what to do.
absl::StatusOr<ts2coreml_torch_commands_main_fn> LoadTorchCommands(
    const std::filesystem::path& library, bool allow_insecure);

/// Runs `ts2coreml <command> <args...>` (convert, coverage or verify) through the library next to
/// this executable; --allow-insecure-plugins among `args` applies to the library too. Returns the
/// exit code of docs/cli.md (10 when the library is missing or cannot be loaded).
int RunTorchCommand(const std::string& command, const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_TORCH_COMMANDS_LOADER_H_
