/// A bounded walk over a TorchScript pickle before LibTorch's unpickler sees it.
///
/// LibTorch 1.13's unpickler trusts its input: an opcode that pops more than the stack holds, a
/// REDUCE on a value that is not a global, a memo index far beyond the table, or a million nested
/// tuples crash it. This walk simulates the stack, mark stack and memo the way LibTorch's
/// unpickler uses them (protocol 2, the opcodes torch's own pickler writes) and refuses anything
/// that would underflow, any unknown opcode, nesting deeper than a bound, and more values than a
/// bound. It also checks every tensor the pickle builds: each storage reference
/// (`BINPERSID ('storage', torch.FloatStorage, key, location, numel)`) against the size of its
/// record in the archive, and each `torch._utils._rebuild_tensor_v2` (offset, sizes, strides)
/// against its storage, so no tensor can reach past the bytes read from the file.
///
///   absl::Status s = CheckPickle(bytes, [&](absl::string_view key) -> std::optional<uint64_t> {
///     return RecordSizeOf(absl::StrCat("archive/data/", key));
///   });
#ifndef TS2COREML_CORE_MODEL_PICKLE_CHECK_H_
#define TS2COREML_CORE_MODEL_PICKLE_CHECK_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ts2coreml::core {

/// Bounds of the walk. Real models stay far below them: nesting is the depth of the module tree
/// plus a few containers, and every value costs LibTorch far more memory than it costs the walk.
struct PickleLimits {
  uint32_t max_nesting = 1000;      ///< containers inside containers, and open MARKs
  uint64_t max_values = 2000000;    ///< values on the stack, in the memo and in kept tuples
  uint32_t max_global_name = 1024;  ///< bytes of a GLOBAL's module or class name
};

/// The size of the archive record holding storage `key`, or nullopt when there is none.
using StorageRecordSize = std::function<std::optional<uint64_t>(absl::string_view key)>;

/// Walks `pickle`; errors (class kModel) name the byte offset and the problem. `record_size` may
/// be empty for pickles that must not reference storages (the `.debug_pkl` source maps).
absl::Status CheckPickle(absl::string_view pickle, const StorageRecordSize& record_size,
                         const PickleLimits& limits = {});

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_MODEL_PICKLE_CHECK_H_
