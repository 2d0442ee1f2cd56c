/// Ownership and mode checks of plugin files and their directories.
#include "registry/plugin_security.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;

absl::Status CheckOne(const fs::path& path, uid_t trusted_uid) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot examine ", path.string(), ": ", std::strerror(errno)));
  }
  const auto refuse = [&path](absl::string_view problem) {
    return absl::PermissionDeniedError(
        absl::StrCat(path.string(), " ", problem, "; fix permissions (chmod go-w, chown) or pass ",
                     kAllowInsecurePluginsFlag));
  };
  if ((st.st_mode & S_IWOTH) != 0) return refuse("is world-writable");
  if ((st.st_mode & S_IWGRP) != 0) return refuse("is group-writable");
  if (st.st_uid != 0 && st.st_uid != trusted_uid) {
    return refuse(absl::StrCat("is owned by uid ", st.st_uid,
                               ", neither root nor the current user (uid ", trusted_uid, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPluginPermissions(const fs::path& file, uid_t trusted_uid) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot examine ", file.string(), ": ", ec.message()));
  }
  const fs::path target = fs::canonical(absolute, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot examine ", file.string(), ": ", ec.message()));
  }
  std::vector<fs::path> checked = {target, target.parent_path()};
  if (target != absolute.lexically_normal()) {
    // Reached through a symlink: whoever can replace the link chooses what gets loaded.
    const fs::path link_dir = fs::canonical(absolute.parent_path(), ec);
    if (!ec && link_dir != target.parent_path()) checked.push_back(link_dir);
  }
  for (const fs::path& path : checked) {
    if (absl::Status s = CheckOne(path, trusted_uid); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::registry
