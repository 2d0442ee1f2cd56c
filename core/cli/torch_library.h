/// Loading a library of LibTorch op kernels for `verify --torch-library FILE.so`.
///
/// A plugin declares a custom op's schema so the converter can load a model calling it, but its
/// kernel lives elsewhere: in a C++ library registering it with `TORCH_LIBRARY` (its static
/// initializers run when it is loaded). LoadTorchLibrary loads such a library the way the registry
/// loads plugins (registry/plugin_security.h): the file is opened once, walking from `/` without
/// following links, it and every directory on the way must be owned by root or the user and not
/// group- or world-writable (unless `allow_insecure`), and the checked descriptor is what gets
/// loaded (`dlopen` of `/proc/self/fd/N`, immediate binding). The library stays loaded for the
/// process: its ops are registered for as long as it is.
///
///   if (absl::Status s = LoadTorchLibrary("build/libfancy_gelu_op.so", false); !s.ok()) ...
#ifndef TS2COREML_CORE_CLI_TORCH_LIBRARY_H_
#define TS2COREML_CORE_CLI_TORCH_LIBRARY_H_

#include <filesystem>

#include "absl/status/status.h"

namespace ts2coreml::core {

/// Loads `file` as described above. Errors (class kPlugin) are one line naming the file and the
/// fix: a permission problem, a file that is missing or not a regular file, or one `dlopen`
/// refuses (not a shared library for this machine, an unresolved symbol).
absl::Status LoadTorchLibrary(const std::filesystem::path& file, bool allow_insecure);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_TORCH_LIBRARY_H_
