/// A bounded, checking reader of the zip container a TorchScript `.pt` file is.
///
/// LibTorch's zip reader trusts the archive: it accepts duplicate names, skips CRC checks and
/// allocates whatever uncompressed size an entry states. This reader walks the central directory
/// itself and refuses what LibTorch must never be handed: duplicate or mismatched names, entries
/// outside the file or overlapping each other, local and central headers that disagree, methods
/// other than stored and deflate, encryption, a CRC-32 that does not match, and inflation beyond
/// a cap (a zip bomb). Nothing here needs LibTorch, so it can be fuzzed in process.
///
///   absl::StatusOr<std::unique_ptr<FileSource>> source = FileSource::Open("model.pt");
///   absl::StatusOr<std::vector<ZipEntry>> entries = ReadZipDirectory(**source);
///   for (const ZipEntry& e : *entries) absl::Status s = VerifyZipEntry(**source, e);
#ifndef TS2COREML_CORE_MODEL_ZIP_ARCHIVE_H_
#define TS2COREML_CORE_MODEL_ZIP_ARCHIVE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ts2coreml::core {

/// Random-access bytes: a file read with pread, or memory (tests, the fuzzer).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// The number of bytes.
  virtual uint64_t size() const = 0;
  /// Reads `n` bytes at `offset` into `out`; an error if the range is not inside the source.
  virtual absl::Status ReadAt(uint64_t offset, size_t n, char* out) const = 0;
};

/// Bytes held by the caller, who keeps them alive.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(absl::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  absl::Status ReadAt(uint64_t offset, size_t n, char* out) const override;

 private:
  absl::string_view bytes_;
};

/// A file opened read-only; read in pieces, never mapped or read whole.
class FileSource : public ByteSource {
 public:
  /// Opens `path`; errors (class kModel) say why it cannot be read.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::filesystem::path& path);
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  absl::Status ReadAt(uint64_t offset, size_t n, char* out) const override;

 private:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

/// One member of the archive as its central directory and local header describe it.
struct ZipEntry {
  std::string name;
  uint64_t local_offset = 0;  ///< of the local header
  uint64_t data_offset = 0;   ///< of the (compressed) data
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint32_t crc32 = 0;
  uint16_t method = 0;  ///< 0 stored, 8 deflate
};

/// Bounds of the directory walk.
struct ZipLimits {
  uint64_t max_entries = 1u << 20;
  /// How many bytes all entries together may inflate to beyond their compressed size. LibTorch
  /// keeps every record it reads in memory, so this bounds what a small file can make it allocate.
  uint64_t max_inflation = uint64_t{256} << 20;
};

/// Reads and checks the central directory (zip64 included) and every entry's local header.
/// Returns the entries in directory order. Errors are class kModel, without the file's name.
absl::StatusOr<std::vector<ZipEntry>> ReadZipDirectory(const ByteSource& source,
                                                       const ZipLimits& limits = {});

/// Reads the entry through (inflating a deflated one in pieces) and checks its CRC-32 and size.
absl::Status VerifyZipEntry(const ByteSource& source, const ZipEntry& entry);

/// The entry's uncompressed bytes, refused beyond `max_bytes`; CRC-32 and size are checked.
absl::StatusOr<std::string> ReadZipEntry(const ByteSource& source, const ZipEntry& entry,
                                         uint64_t max_bytes);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_MODEL_ZIP_ARCHIVE_H_
