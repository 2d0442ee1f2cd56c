/// Reads what a plugin library says about itself from its ELF file, before it is loaded.
///
/// Loading a library runs its constructors, so everything that decides whether a plugin is loaded
/// at all is read from the file with libelf: the dynamic symbol table must define the entry
/// function, and the constant `ts2coreml_plugin_header` (integers only, so its bytes in the file
/// are its value) is copied out of the section that holds it, bounds-checked. A library built
/// against an SDK that predates the header has none; it is loaded as before and its entry's data
/// is checked after loading.
///
///   absl::StatusOr<PluginFileFacts> facts = ReadPluginFileFacts(file.fd.get());
///   if (!facts.ok()) Refuse(path, facts.status());
///   if (facts->header) ValidatePluginHeader(*facts->header);   // declaration_reader.h
#ifndef TS2COREML_REGISTRY_PLUGIN_HEADER_READER_H_
#define TS2COREML_REGISTRY_PLUGIN_HEADER_READER_H_

#include <optional>

#include "absl/status/statusor.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::registry {

/// What the file of a plugin library declares.
struct PluginFileFacts {
  /// The library's `ts2coreml_plugin_header`: min(header_size, sizeof) bytes copied, the rest
  /// zero. Empty when the library exports none.
  std::optional<t2c_plugin_header> header;
};

/// Reads the ELF shared library open at `fd` (read with pread; the offset is not used). Errors are
/// one line without the file name, FailedPrecondition:
///   "not a loadable plugin library: <why>" (not ELF, not a shared object, another architecture,
///   no dynamic symbol table), "does not export ts2coreml_plugin_entry; ..." (missing, undefined,
///   so that it would be null, or not a function), "ts2coreml_plugin_header ..." (not constant
///   data in the file, or smaller than its first published layout).
absl::StatusOr<PluginFileFacts> ReadPluginFileFacts(int fd);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_PLUGIN_HEADER_READER_H_
