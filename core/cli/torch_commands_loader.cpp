#include "core/cli/torch_commands_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/base/errors.h"
#include "core/cli/cli_common.h"
#include "registry/plugin_dirs.h"
#include "registry/plugin_security.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;

/// "<library>: cannot load the convert, coverage and verify commands: <why>; <fix>".
absl::Status LibraryError(const fs::path& library, absl::string_view why, absl::string_view fix) {
  std::string line =
      absl::StrCat(library.string(),
                   ": cannot load the convert, coverage and verify commands: ", why, "; ", fix);
  return Error(ErrorClass::kInternal, absl::StrReplaceAll(line, {{"\n", " "}}));
}

constexpr char kReinstall[] =
    "reinstall ts2coreml, or run it from its build or install tree (bin/ts2coreml beside lib/ts2coreml/)";

}  // namespace

fs::path TorchCommandsLibraryPath(const fs::path& exe) {
  return (exe.parent_path() / kTorchCommandsLibraryFromExe).lexically_normal();
}

absl::StatusOr<ts2coreml_torch_commands_main_fn> LoadTorchCommands(const fs::path& library,
                                                                   bool allow_insecure) {
  absl::StatusOr<registry::PluginFile> file =
      registry::OpenPluginFile(library, ::geteuid(), /*check_permissions=*/!allow_insecure);
  if (!file.ok()) {
    const bool missing = file.status().code() == absl::StatusCode::kNotFound;
    return LibraryError(
        library, file.status().message(),
        missing ? kReinstall : "the file must be the library ts2coreml was installed with");
  }
  absl::StatusOr<registry::ScopedFd> load_fd = registry::FreshDescriptor(file->fd.get());
  if (!load_fd.ok()) return LibraryError(library, load_fd.status().message(), kReinstall);
  const std::string proc_path = registry::ProcFdPath(load_fd->get());
  ::dlerror();  // clear any stale error so that the one reported is ours
  // Never closed: the command runs from it until the process ends. Lazy binding, as when the
  // executable linked LibTorch: RTLD_NOW would bind every function of LibTorch's ~290 libraries
  // up front (the library itself is linked with --no-undefined).
  void* handle = ::dlopen(proc_path.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* raw = ::dlerror();
    std::string why = raw != nullptr ? raw : "dlopen failed";
    // dlerror names the /proc/self/fd path; the message already starts with the library's.
    if (absl::StartsWith(why, proc_path + ": ")) why.erase(0, proc_path.size() + 2);
    return LibraryError(library, why, kReinstall);
  }
  // The descriptor stays open for good: glibc knows the library by the name /proc/self/fd/N, and
  // the library's own registry (its own FreshDescriptor) must never get N for a plugin, or dlopen
  // would hand it this library back.
  load_fd->release();
  void* entry = ::dlsym(handle, TS2COREML_TORCH_COMMANDS_ENTRY);
  if (entry == nullptr) {
    return LibraryError(
        library, absl::StrCat("it does not export ", TS2COREML_TORCH_COMMANDS_ENTRY), kReinstall);
  }
  return reinterpret_cast<ts2coreml_torch_commands_main_fn>(entry);
}

int RunTorchCommand(const std::string& command, const std::vector<std::string>& args) {
  absl::StatusOr<fs::path> exe = registry::ExecutablePath();
  if (!exe.ok()) return ReportError(exe.status());
  const bool allow_insecure =
      std::find(args.begin(), args.end(), registry::kAllowInsecurePluginsFlag) != args.end();
  absl::StatusOr<ts2coreml_torch_commands_main_fn> entry =
      LoadTorchCommands(TorchCommandsLibraryPath(*exe), allow_insecure);
  if (!entry.ok()) return ReportError(entry.status());
  std::vector<const char*> argv = {command.c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return (*entry)(static_cast<int>(argv.size()), argv.data());
}

}  // namespace ts2coreml::core
