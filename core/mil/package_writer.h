/// Writes a MIL function and its model description as a Core ML package (.mlpackage).
///
///   absl::StatusOr<WriteStats> stats = WritePackageAtomically(spec, main, "Net.mlpackage",
///                                                             /*force=*/false);
///
/// The output is deterministic: converting the same model twice gives byte-identical trees
/// (manifest identifiers are derived from the content, protobuf maps are written in key order).
#ifndef TS2COREML_CORE_MIL_PACKAGE_WRITER_H_
#define TS2COREML_CORE_MIL_PACKAGE_WRITER_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/mil/program.h"

namespace ts2coreml::mil {

/// Constants with at least this many elements (and a float dtype) go into weight.bin.
inline constexpr int64_t kMinBlobElements = 10;
/// How the model refers to its weight file.
inline constexpr char kWeightFileName[] = "@model_path/weights/weight.bin";

/// What a package write produced.
struct WriteStats {
  /// Size of weight.bin in bytes, header and padding included.
  uint64_t weight_file_bytes = 0;
  /// Constant data stored in weight.bin, by dtype.
  std::map<DType, uint64_t> weight_bytes_by_dtype;
  /// Constant data stored inline in model.mlmodel, by dtype (strings count their characters).
  std::map<DType, uint64_t> immediate_bytes_by_dtype;
  int num_blobs = 0;
  /// Operations in the main block, consts included.
  int num_ops = 0;
};

/// Writes a complete package into `dir`, which must not exist yet and is created: Manifest.json,
/// Data/com.apple.CoreML/model.mlmodel and Data/com.apple.CoreML/weights/weight.bin. On failure
/// `dir` is removed again. `spec` inputs/outputs must match `main`'s inputs/outputs by name and
/// dtype.
absl::StatusOr<WriteStats> WritePackageDir(const ModelSpec& spec, const Function& main,
                                           const std::filesystem::path& dir);

/// Writes a package into a temporary sibling of `out`, validates it by reading it back, then
/// renames it into place. An existing `out` is an AlreadyExists error unless `force`; with `force`
/// it is replaced, and any failure leaves the old output intact. The temporary folder never
/// survives a failure.
absl::StatusOr<WriteStats> WritePackageAtomically(const ModelSpec& spec, const Function& main,
                                                  const std::filesystem::path& out, bool force);

/// A deterministic UUID-formatted identifier (uppercase 8-4-4-4-12) derived from `content`.
std::string ContentUuid(std::string_view content);

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_PACKAGE_WRITER_H_
