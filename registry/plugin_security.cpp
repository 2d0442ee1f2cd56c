/// Opening plugin files without following links, and the ownership and mode rule.
#include "registry/plugin_security.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;

/// The permission rule for one file or directory, from its descriptor's stat.
absl::Status CheckMode(const fs::path& path, const struct stat& st, uid_t trusted_uid) {
  const auto refuse = [&path](absl::string_view problem) {
    return absl::PermissionDeniedError(
        absl::StrCat(path.string(), " ", problem, "; fix permissions (chmod go-w, chown) or pass ",
                     kAllowInsecurePluginsFlag));
  };
  // Others can add entries to a sticky directory but not rename or replace ours.
  const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
  if (!sticky_dir && (st.st_mode & S_IWOTH) != 0) return refuse("is world-writable");
  if (!sticky_dir && (st.st_mode & S_IWGRP) != 0) return refuse("is group-writable");
  if (st.st_uid != 0 && st.st_uid != trusted_uid) {
    return refuse(absl::StrCat("is owned by uid ", st.st_uid,
                               ", neither root nor the current user (uid ", trusted_uid, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckDescriptor(int fd, const fs::path& path, uid_t trusted_uid) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot examine ", path.string(), ": ", std::strerror(errno)));
  }
  return CheckMode(path, st, trusted_uid);
}

/// The error of an openat() step that failed with `error` on `path`.
absl::Status StepError(const fs::path& path, int error) {
  if (error == ELOOP || error == ENOTDIR) {
    return absl::FailedPreconditionError(absl::StrCat(
        path.string(),
        " changed into a symlink while being checked; make sure only you or root can change it"));
  }
  return absl::NotFoundError(
      absl::StrCat("cannot open ", path.string(), ": ", std::strerror(error)));
}

/// Opens the absolute, symlink-free directory `dir` by walking from `/` with O_NOFOLLOW, checking
/// each directory on the way unless it is in `checked` (or `checked` is null: no checks).
absl::StatusOr<ScopedFd> OpenDirectory(const fs::path& dir, uid_t trusted_uid,
                                       std::set<fs::path>* checked) {
  fs::path shown = "/";
  ScopedFd current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!current.valid()) return StepError(shown, errno);
  const auto check = [&](int fd) {
    if (checked == nullptr || !checked->insert(shown).second) return absl::OkStatus();
    return CheckDescriptor(fd, shown, trusted_uid);
  };
  if (absl::Status s = check(current.get()); !s.ok()) return s;
  for (const fs::path& part : dir.relative_path()) {
    if (part.empty()) continue;
    shown /= part;
    ScopedFd next(
        ::openat(current.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return StepError(shown, errno);
    if (absl::Status s = check(next.get()); !s.ok()) return s;
    current = std::move(next);
  }
  return current;
}

/// When `absolute` reaches its file through symlinks, whoever can replace one of them chooses what
/// gets loaded: checks the directories of every prefix of `absolute`, resolved, up to `/`.
absl::Status CheckLinkDirectories(const fs::path& absolute, uid_t trusted_uid,
                                  std::set<fs::path>* checked) {
  fs::path prefix;
  for (const fs::path& part : absolute.parent_path()) {
    prefix /= part;
    std::error_code ec;
    const fs::path resolved = fs::canonical(prefix, ec);
    if (ec) continue;  // the walk of the file itself reports what is missing
    absl::StatusOr<ScopedFd> dir = OpenDirectory(resolved, trusted_uid, checked);
    if (!dir.ok()) return dir.status();
  }
  return absl::OkStatus();
}

}  // namespace

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

std::string ProcFdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

absl::StatusOr<ScopedFd> FreshDescriptor(int fd) {
  static std::mutex mutex;
  static std::set<int> used;
  std::lock_guard<std::mutex> lock(mutex);
  int from = 0;
  while (true) {
    ScopedFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, from));
    if (!copy.valid()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no file descriptor left to load the plugin: ", std::strerror(errno)));
    }
    if (used.insert(copy.get()).second) return copy;
    from = copy.get() + 1;
  }
}

absl::StatusOr<PluginFile> OpenPluginFile(const fs::path& file, uid_t trusted_uid,
                                          bool check_permissions) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec).lexically_normal();
  PluginFile out;
  if (!ec) out.canonical = fs::canonical(absolute, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot examine ", file.string(), ": ", ec.message()));
  }
  std::set<fs::path> checked;
  std::set<fs::path>* const check = check_permissions ? &checked : nullptr;
  absl::StatusOr<ScopedFd> dir = OpenDirectory(out.canonical.parent_path(), trusted_uid, check);
  if (!dir.ok()) return dir.status();
  if (check_permissions && out.canonical != absolute) {
    if (absl::Status s = CheckLinkDirectories(absolute, trusted_uid, check); !s.ok()) return s;
  }
  // Opening a device or a FIFO can have effects of its own: look before opening.
  struct stat named;
  if (::fstatat(dir->get(), out.canonical.filename().c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISREG(named.st_mode) && !S_ISLNK(named.st_mode)) {
    return absl::InvalidArgumentError("not a regular file; pass a plugin library (.so)");
  }
  out.fd = ScopedFd(::openat(dir->get(), out.canonical.filename().c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!out.fd.valid()) return StepError(out.canonical, errno);
  if (::fstat(out.fd.get(), &out.st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot examine ", out.canonical.string(), ": ", std::strerror(errno)));
  }
  if (!S_ISREG(out.st.st_mode)) {
    return absl::InvalidArgumentError("not a regular file; pass a plugin library (.so)");
  }
  if (check_permissions) {
    if (absl::Status s = CheckMode(out.canonical, out.st, trusted_uid); !s.ok()) return s;
  }
  return out;
}

absl::Status CheckPluginPermissions(const fs::path& file, uid_t trusted_uid) {
  return OpenPluginFile(file, trusted_uid, /*check_permissions=*/true).status();
}

}  // namespace ts2coreml::registry
