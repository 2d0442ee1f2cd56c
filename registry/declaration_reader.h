/// Validates the constant data a plugin's entry point returned and copies it into registry types.
///
/// This is the only code that reads a plugin's `t2c_plugin_header` (read from the file before
/// loading, see plugin_header_reader.h) and `t2c_plugin_info`. It checks the ABI version and the
/// structure sizes before anything else, walks the lowering array with the plugin's own
/// `struct_size` as the stride, copies each structure as min(struct_size, the size this build
/// knows) bytes with the rest zeroed (so an older plugin's missing fields read as zero and a newer
/// plugin's appended fields are ignored), and refuses the whole plugin if any declaration is
/// invalid.
///
///   if (absl::Status s = ValidatePluginHeader(header); !s.ok()) Refuse(path, s);  // not loaded
///   absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(entry(), &header);
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

/// Checks a header read from the plugin's file: the ABI version (not 0, not newer than this core's)
/// and every size at least the first published layout's (T2C_*_MIN_SIZE) and at most
/// kMaxPluginStructSize. FailedPrecondition with a one-line reason otherwise.
absl::Status ValidatePluginHeader(const t2c_plugin_header& header);

/// Validates `info` and copies it. With `header` (the file declared one), the info's ABI version
/// and both struct sizes must equal the header's. Errors are one line without the file name (the
/// caller adds it): FailedPrecondition for an ABI or layout the core cannot use or a disagreement
/// with the header, InvalidArgument for an invalid declaration ("lowering 'relu' (#0): input
/// 'self' has dtype bits outside bool|fp16|fp32|int32: string").
absl::StatusOr<PluginDeclarations> ReadPluginDeclarations(
    const t2c_plugin_info* info, const t2c_plugin_header* header = nullptr);

/// Checks that `op` is "ns::name" or "ns::name.overload", each part made of letters, digits and
/// '_'. InvalidArgument naming the op otherwise.
absl::Status ValidateOpName(std::string_view op);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_DECLARATION_READER_H_
