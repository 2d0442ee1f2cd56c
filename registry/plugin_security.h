/// The permission check run on every plugin file before it is loaded.
///
/// Loading a plugin runs its code with the converter's privileges, so nobody but root or the user
/// running ts2coreml may be able to change what gets loaded:
///
///   if (absl::Status s = CheckPluginPermissions(path, geteuid()); !s.ok()) Refuse(path, s);
#ifndef TS2COREML_REGISTRY_PLUGIN_SECURITY_H_
#define TS2COREML_REGISTRY_PLUGIN_SECURITY_H_

#include <sys/types.h>

#include <filesystem>

#include "absl/status/status.h"

namespace ts2coreml::registry {

/// The flag that lets the user load plugins that fail CheckPluginPermissions.
inline constexpr char kAllowInsecurePluginsFlag[] = "--allow-insecure-plugins";

/// Checks the plugin file (after following symlinks), the directory holding it, and the directory
/// holding a symlink to it: none may be group- or world-writable, and each must be owned by root or
/// `trusted_uid`. PermissionDenied naming the offending path and the fix otherwise
/// ("/opt/p is world-writable; fix permissions (chmod go-w) or pass --allow-insecure-plugins"),
/// NotFound when the file cannot be examined.
absl::Status CheckPluginPermissions(const std::filesystem::path& file, uid_t trusted_uid);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_PLUGIN_SECURITY_H_
