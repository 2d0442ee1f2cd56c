/// Where the CLI looks for plugins.
///
/// The built-in plugins sit next to the executable's install tree; users add directories with the
/// TS2COREML_PLUGIN_PATH environment variable (absolute entries only) and --plugin-dir flags. The
/// current directory is never searched unless the user names it with --plugin-dir:
///
///   absl::StatusOr<std::filesystem::path> exe = ExecutablePath();
///   std::vector<std::filesystem::path> dirs = DefaultPluginDirs(
///       exe.ok() ? *exe : std::filesystem::path(), flags.plugin_dirs,
///       std::getenv(kPluginPathEnvVar));
///   Registry registry = Registry::Load(dirs, options);
#ifndef TS2COREML_REGISTRY_PLUGIN_DIRS_H_
#define TS2COREML_REGISTRY_PLUGIN_DIRS_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ts2coreml::registry {

/// The environment variable holding extra plugin directories, separated by ':'.
inline constexpr char kPluginPathEnvVar[] = "TS2COREML_PLUGIN_PATH";

/// The built-in plugin directory relative to the directory of the executable.
inline constexpr char kBuiltinPluginDirFromExe[] = "../lib/ts2coreml/plugins";

/// The plugin directories in search order: `<dir of executable>/../lib/ts2coreml/plugins` (skipped
/// when `executable` is empty), then each non-empty entry of `env_plugin_path` (the value of
/// TS2COREML_PLUGIN_PATH, may be null), then `user_dirs` (--plugin-dir). Relative --plugin-dir
/// values are made absolute against the current directory, since the user named them on this
/// command line; relative entries of TS2COREML_PLUGIN_PATH are skipped with a line in `warnings`
/// (when not null), since an environment set once would make every later current directory a
/// plugin folder. Empty entries are ignored, never read as ".". Paths are lexically normalized and
/// a directory listed twice is kept once, at its first position. Directories are not checked for
/// existence here.
std::vector<std::filesystem::path> DefaultPluginDirs(
    const std::filesystem::path& executable, const std::vector<std::filesystem::path>& user_dirs,
    const char* env_plugin_path, std::vector<std::string>* warnings = nullptr);

/// The running executable's absolute path, read from /proc/self/exe. Internal error if unreadable.
absl::StatusOr<std::filesystem::path> ExecutablePath();

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_PLUGIN_DIRS_H_
