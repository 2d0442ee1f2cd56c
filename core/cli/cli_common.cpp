#include "core/cli/cli_common.h"

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
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

namespace {

/// When no plugin was loaded at all, the reason to say before anything else: where the built-in
/// plugins were looked for. Empty when some plugin was loaded.
std::string MissingPluginsWarning(const registry::Registry& reg,
                                  const absl::StatusOr<std::filesystem::path>& exe) {
  if (!reg.plugins().empty()) return "";
  const std::string builtin =
      exe.ok()
          ? (exe->parent_path() / registry::kBuiltinPluginDirFromExe).lexically_normal().string()
          : std::string("(unknown: the executable's path cannot be read)");
  return absl::StrCat(
      "no plugins were loaded: the built-in plugins are missing from ", builtin,
      " (looked there because the executable is ", exe.ok() ? exe->string() : "unknown",
      "); run ts2coreml from its install or build tree (bin/ beside lib/ts2coreml/plugins), or name plugin folders with --plugin-dir or ",
      registry::kPluginPathEnvVar);
}

}  // namespace

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
  // Said even under --quiet, and first: every op would otherwise be reported unsupported.
  if (std::string missing = MissingPluginsWarning(reg, exe); !missing.empty()) {
    std::cerr << "ts2coreml: warning: " << missing << "\n";
  }
  if (!flags.quiet) {
    for (const registry::RefusedPlugin& r : reg.refused()) {
      std::cerr << "ts2coreml: warning: plugin refused: " << r.reason << "\n";
    }
    for (const std::string& w : reg.warnings()) std::cerr << "ts2coreml: warning: " << w << "\n";
  }
  return reg;
}

absl::StatusOr<double> ParseNumberFlag(absl::string_view flag, absl::string_view text,
                                       const NumberRange& range) {
  double v = 0;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return Error(ErrorClass::kUsage, absl::StrCat(flag, " ", text, ": give ", range.what));
  }
  const bool above_lo = range.lo_open ? v > range.lo : v >= range.lo;
  if (!above_lo || v > range.hi) {
    return Error(ErrorClass::kUsage, absl::StrCat(flag, " ", text, ": give ", range.what));
  }
  return v;
}

int ReportError(const absl::Status& status) {
  std::cerr << "ts2coreml: error: " << status.message() << "\n";
  return static_cast<int>(ClassOf(status));
}

}  // namespace ts2coreml::core
