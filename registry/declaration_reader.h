/// Validates the constant data a plugin's entry point returned and copies it into registry types.
///
/// This is the only code that reads a plugin's `t2c_plugin_info`. It checks the ABI version and the
/// structure sizes before anything else, walks the lowering array with the plugin's own
/// `struct_size` as the stride (a plugin built against a newer SDK may have appended fields; only
/// the fields this build knows are read), and refuses the whole plugin if any declaration is
/// invalid.
///
///   absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(entry());
///   if (!decls.ok()) Refuse(path, decls.status().message());
#ifndef TS2COREML_REGISTRY_DECLARATION_READER_H_
#define TS2COREML_REGISTRY_DECLARATION_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "registry/lowering.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::registry {

/// Everything a plugin declares, validated and copied. `Lowering::plugin` is not set yet.
struct PluginDeclarations {
  std::string name;
  std::string version;
  uint32_t abi_version = 0;
  std::vector<Lowering> lowerings;
};

/// The largest `struct_size` accepted for either structure; anything bigger is garbage.
inline constexpr uint32_t kMaxPluginStructSize = 4096;

/// Validates `info` and copies it. Errors are one line without the file name (the caller adds it):
/// FailedPrecondition for an ABI or layout the core cannot use, InvalidArgument for an invalid
/// declaration ("lowering 'relu' (#0): input 'self' has dtype bits outside bool|fp16|fp32|int32:
/// string").
absl::StatusOr<PluginDeclarations> ReadPluginDeclarations(const t2c_plugin_info* info);

/// Checks that `op` is "ns::name" or "ns::name.overload", each part made of letters, digits and
/// '_'. InvalidArgument naming the op otherwise.
absl::Status ValidateOpName(std::string_view op);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_DECLARATION_READER_H_
