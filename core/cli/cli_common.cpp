#include "core/cli/cli_common.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "registry/plugin_dirs.h"

namespace ts2coreml::core {

bool ParseCommonFlag(const std::vector<std::string>& args, size_t* i, CommonFlags* flags,
                     absl::Status* error) {
  const std::string& a = args[*i];
  if (a == "--plugin-dir") {
    if (*i + 1 >= args.size()) {
      *error = Error(ErrorClass::kUsage, "--plugin-dir needs a value");
      return true;
    }
    flags->plugin_dirs.emplace_back(args[++*i]);
    return true;
  }
  if (a == "--allow-insecure-plugins") {
    flags->allow_insecure_plugins = true;
    return true;
  }
  if (a == "--quiet" || a == "-q") {
    flags->quiet = true;
    return true;
  }
  return false;
}

registry::Registry LoadPlugins(const CommonFlags& flags) {
  absl::StatusOr<std::filesystem::path> exe = registry::ExecutablePath();
  std::vector<std::string> path_warnings;
  std::vector<std::filesystem::path> dirs =
      registry::DefaultPluginDirs(exe.ok() ? *exe : std::filesystem::path(), flags.plugin_dirs,
                                  std::getenv(registry::kPluginPathEnvVar), &path_warnings);
  registry::LoadOptions options;
  options.allow_insecure = flags.allow_insecure_plugins;
  registry::Registry reg = registry::Registry::Load(dirs, options);
  for (std::string& w : path_warnings) reg.AddWarning(std::move(w));
  if (!flags.quiet) {
    for (const registry::RefusedPlugin& r : reg.refused()) {
      std::cerr << "ts2coreml: warning: plugin refused: " << r.reason << "\n";
    }
    for (const std::string& w : reg.warnings()) std::cerr << "ts2coreml: warning: " << w << "\n";
  }
  return reg;
}

int ReportError(const absl::Status& status) {
  std::cerr << "ts2coreml: error: " << status.message() << "\n";
  return static_cast<int>(ClassOf(status));
}

}  // namespace ts2coreml::core
