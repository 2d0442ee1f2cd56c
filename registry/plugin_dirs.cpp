/// Plugin directory discovery for the CLI.
#include "registry/plugin_dirs.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;

/// Absolute, normalized, without a trailing separator, so that duplicates compare equal.
fs::path Normalize(const fs::path& dir) {
  std::error_code ec;
  fs::path absolute = dir.is_absolute() ? dir : fs::absolute(dir, ec);
  if (ec) absolute = dir;
  fs::path normal = absolute.lexically_normal();
  if (!normal.has_filename() && normal.has_relative_path()) normal = normal.parent_path();
  return normal;
}

void Add(const fs::path& dir, std::vector<fs::path>& out) {
  if (dir.empty()) return;
  fs::path normal = Normalize(dir);
  if (std::find(out.begin(), out.end(), normal) == out.end()) out.push_back(std::move(normal));
}

}  // namespace

std::vector<fs::path> DefaultPluginDirs(const fs::path& executable,
                                        const std::vector<fs::path>& user_dirs,
                                        const char* env_plugin_path,
                                        std::vector<std::string>* warnings) {
  std::vector<fs::path> dirs;
  if (!executable.empty()) {
    Add(Normalize(executable).parent_path() / kBuiltinPluginDirFromExe, dirs);
  }
  if (env_plugin_path != nullptr) {
    std::string_view rest = env_plugin_path;
    while (true) {
      const size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      const fs::path dir{std::string(entry)};
      if (!dir.empty() && dir.is_relative()) {
        // Whoever chooses the current directory would choose the plugins.
        if (warnings != nullptr) {
          warnings->push_back(
              absl::StrCat(kPluginPathEnvVar, " entry '", dir.string(),
                           "' is relative and is ignored; use an absolute path or --plugin-dir"));
        }
      } else {
        Add(dir, dirs);
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const fs::path& dir : user_dirs) Add(dir, dirs);
  return dirs;
}

absl::StatusOr<fs::path> ExecutablePath() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot find the ts2coreml executable via /proc/self/exe: ", ec.message()));
  }
  return exe;
}

}  // namespace ts2coreml::registry
