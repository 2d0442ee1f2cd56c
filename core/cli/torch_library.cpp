#include "core/cli/torch_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "registry/plugin_security.h"

namespace ts2coreml::core {

absl::Status LoadTorchLibrary(const std::filesystem::path& file, bool allow_insecure) {
  const std::string what = absl::StrCat("--torch-library ", file.string(), ": ");
  absl::StatusOr<registry::PluginFile> opened =
      registry::OpenPluginFile(file, ::geteuid(), /*check_permissions=*/!allow_insecure);
  if (!opened.ok())
    return Error(ErrorClass::kPlugin, absl::StrCat(what, opened.status().message()));
  absl::StatusOr<registry::ScopedFd> load = registry::FreshDescriptor(opened->fd.get());
  if (!load.ok()) return Error(ErrorClass::kPlugin, absl::StrCat(what, load.status().message()));
  ::dlerror();
  // Never closed: the ops its static initializers registered live as long as the library.
  const std::string proc_path = registry::ProcFdPath(load->get());
  void* handle = ::dlopen(proc_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    std::string reason = error ? error : "unknown reason";
    if (absl::StartsWith(reason, proc_path + ": ")) reason.erase(0, proc_path.size() + 2);
    return Error(
        ErrorClass::kPlugin,
        absl::StrCat(
            what, "cannot be loaded: ", reason,
            "; give a shared library of op kernels built against this LibTorch (TORCH_LIBRARY)"));
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::core
