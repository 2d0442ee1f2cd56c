// libFuzzer target for the model-file pre-checks LibTorch is never handed a file without
// (core/model/archive_precheck.h), in process: every input goes through the whole archive check
// (zip directory, CRC-32 and inflation of every entry, pickles, code), and also, as they are,
// through the pickle walk (with storage records of a few sizes) and the code scan, so that
// mutations reach those without first having to form a valid zip.
// Any error status is fine; a crash, sanitizer report, leak, hang or uncaught exception is a bug.
//
//   model_fuzzer -max_total_time=30 -max_len=65536 CORPUS_DIR SEED_DIR
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "core/model/archive_precheck.h"
#include "core/model/code_check.h"
#include "core/model/pickle_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ts2coreml::core;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Tighter than the CLI's bounds so that each run stays fast; the code paths are the same.
  ArchiveLimits limits;
  limits.zip.max_inflation = 16u << 20;
  limits.max_text_bytes = 4u << 20;
  (void)PrecheckTorchScriptArchive(MemorySource(bytes), limits);
  const StorageRecordSize records = [](absl::string_view key) -> std::optional<uint64_t> {
    if (key.empty()) return std::nullopt;
    return static_cast<uint64_t>(static_cast<unsigned char>(key[0])) * 4;
  };
  (void)CheckPickle(bytes, records);
  (void)CheckTorchScriptCode(bytes);
  return 0;
}
