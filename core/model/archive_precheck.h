/// The checks a TorchScript `.pt` passes before LibTorch is handed it, in one call.
///
/// 1. The zip container (zip_archive.h): directory, headers, no duplicates or overlaps, the
///    inflation cap, and the CRC-32 and size of every entry (the whole file is read once).
/// 2. Every pickle (`*.pkl`, `*.debug_pkl`) with the bounded opcode walk (pickle_check.h),
///    including each storage reference against the size of its record and each tensor's offset,
///    sizes and strides against its storage.
/// 3. Every source file under `code/` with the bounded nesting scan (code_check.h).
///
/// Torch-free, so the model-file fuzzer runs it in process on arbitrary bytes.
///
///   absl::StatusOr<ArchiveSummary> s = PrecheckTorchScriptArchive(MemorySource(bytes));
#ifndef TS2COREML_CORE_MODEL_ARCHIVE_PRECHECK_H_
#define TS2COREML_CORE_MODEL_ARCHIVE_PRECHECK_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/model/code_check.h"
#include "core/model/pickle_check.h"
#include "core/model/zip_archive.h"

namespace ts2coreml::core {

/// Bounds of all three checks.
struct ArchiveLimits {
  ZipLimits zip;
  PickleLimits pickle;
  CodeLimits code;
  /// The largest pickle or source file read into memory to be checked.
  uint64_t max_text_bytes = uint64_t{64} << 20;
};

/// What the checks covered.
struct ArchiveSummary {
  size_t entries = 0;
  size_t pickles = 0;
  size_t code_files = 0;
  uint64_t bytes_verified = 0;  ///< uncompressed bytes whose CRC-32 was checked
};

/// How the refusal of a torch.save checkpoint (data.pkl without code/ or constants.pkl) starts: it
/// is not a damaged file, and the message says how to make TorchScript instead.
inline constexpr char kCheckpointRefusal[] = "is a torch.save checkpoint";

/// Runs the checks; errors (class kModel) name the entry and the problem, not the file.
absl::StatusOr<ArchiveSummary> PrecheckTorchScriptArchive(const ByteSource& source,
                                                          const ArchiveLimits& limits = {});

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_MODEL_ARCHIVE_PRECHECK_H_
