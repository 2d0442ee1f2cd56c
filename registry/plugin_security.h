/// Opening a plugin file so that the file checked is the file loaded.
///
/// Loading a plugin runs its code with the converter's privileges, so nobody but root or the user
/// running ts2coreml may be able to change what gets loaded. OpenPluginFile resolves symlinks once,
/// then walks from `/` to the file one component at a time with O_NOFOLLOW (a link swapped in
/// after the resolution makes the walk fail instead of being followed), checks each directory's
/// descriptor on the way and the file's own descriptor, and returns that descriptor; the registry
/// reads the plugin's header from it and loads the library through `/proc/self/fd/N`:
///
///   absl::StatusOr<PluginFile> file = OpenPluginFile(path, geteuid(), /*check_permissions=*/true);
///   if (!file.ok()) Refuse(path, file.status());
///   absl::StatusOr<ScopedFd> load = FreshDescriptor(file->fd.get());
///   dlopen(ProcFdPath(load->get()).c_str(), RTLD_NOW | RTLD_LOCAL);
///
/// The permission rule, for the file and for every directory from it up to `/` (and, when the file
/// was named through a symlink, every directory holding that link up to `/`): owned by root or the
/// trusted user, and neither group- nor world-writable. A directory that is group- or
/// world-writable but sticky (`/tmp`, mode 1777) passes when it is owned by root or the trusted
/// user: others can add entries to it but cannot rename or replace the entry below it on the path,
/// which the rule checks in turn.
#ifndef TS2COREML_REGISTRY_PLUGIN_SECURITY_H_
#define TS2COREML_REGISTRY_PLUGIN_SECURITY_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ts2coreml::registry {

/// The flag that lets the user load plugins that fail the permission rule.
inline constexpr char kAllowInsecurePluginsFlag[] = "--allow-insecure-plugins";

/// An open file descriptor, closed on destruction. Movable, not copyable.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd();
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

/// A plugin library opened read-only for checking and loading.
struct PluginFile {
  ScopedFd fd;                      ///< the regular file, read-only
  std::filesystem::path canonical;  ///< the path the walk followed, without symlinks
  struct stat st {};                ///< fstat of `fd`
};

/// "/proc/self/fd/N": opening it opens exactly the file of descriptor N, whatever its name now
/// points to.
std::string ProcFdPath(int fd);

/// A duplicate of `fd` (close-on-exec) whose number no earlier call in this process returned.
/// dlopen looks a library up by the name it was loaded under before it looks at the file, and a
/// library may stay loaded after dlclose, so every /proc/self/fd/N name given to dlopen must be
/// new. ResourceExhausted when the process has no descriptor left.
absl::StatusOr<ScopedFd> FreshDescriptor(int fd);

/// Opens `file` (absolute or relative to the current directory) as described above. With
/// `check_permissions` the rule is applied (PermissionDenied naming the offending path and the
/// fix: "/opt/p is world-writable; fix permissions (chmod go-w, chown) or pass
/// --allow-insecure-plugins"); without it only the no-follow walk and the regular-file check are.
/// NotFound when the file cannot be resolved or opened, InvalidArgument when it is not a regular
/// file, FailedPrecondition when a component changed into a symlink during the walk.
absl::StatusOr<PluginFile> OpenPluginFile(const std::filesystem::path& file, uid_t trusted_uid,
                                          bool check_permissions);

/// OpenPluginFile(file, trusted_uid, true), keeping only its status.
absl::Status CheckPluginPermissions(const std::filesystem::path& file, uid_t trusted_uid);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_PLUGIN_SECURITY_H_
