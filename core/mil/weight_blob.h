/// The Core ML weight blob file (weights/weight.bin): a streaming writer and a checking reader.
///
/// Layout (little-endian, 64-byte aligned): a 64-byte header {uint32 count, uint32 version = 2},
/// then per blob a 64-byte metadata record {uint32 0xDEADBEEF, uint32 data type, uint64 size,
/// uint64 data offset}, the data, and zero padding to the next multiple of 64. A constant refers to
/// its blob by the offset of the metadata record.
///
///   WeightBlobWriter w;
///   absl::Status opened = w.Open(path);
///   absl::StatusOr<uint64_t> record = w.Append(DType::kFloat16, halves.data(), halves.size() * 2);
///   absl::Status done = w.Finish();
///
///   absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
///   absl::StatusOr<BlobRef> ref = r->Read(*record);
///   absl::StatusOr<std::vector<uint8_t>> bytes = r->ReadData(*ref);
#ifndef TS2COREML_CORE_MIL_WEIGHT_BLOB_H_
#define TS2COREML_CORE_MIL_WEIGHT_BLOB_H_

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/safe_file.h"
#include "core/mil/program.h"

namespace ts2coreml::mil {

/// Data type codes used in blob metadata records (not the MIL DataType values).
enum class BlobDataType : uint32_t {
  kFloat16 = 1,
  kFloat32 = 2,
  kUInt8 = 3,
  kInt8 = 4,
  kInt32 = 14,
};

/// Alignment of the header, every record and every data section.
inline constexpr uint64_t kBlobAlignment = 64;
/// Size of the file header and of each metadata record.
inline constexpr uint64_t kBlobRecordSize = 64;
/// Marks the start of a metadata record.
inline constexpr uint32_t kBlobSentinel = 0xDEADBEEFu;
/// The file format version written in the header.
inline constexpr uint32_t kBlobFileVersion = 2;

/// The blob code for a MIL dtype that may live in the blob file; an error for bool/string.
absl::StatusOr<BlobDataType> BlobDataTypeFor(DType dtype);
/// "Float16", "Float32", "UInt8", "Int8", "Int32", or "unknown(<code>)".
std::string BlobDataTypeName(uint32_t code);

/// Closes a FILE* on destruction.
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

/// Streams blobs into a new weight file. Not thread-safe.
class WeightBlobWriter {
 public:
  WeightBlobWriter() = default;
  WeightBlobWriter(WeightBlobWriter&&) = default;
  WeightBlobWriter& operator=(WeightBlobWriter&&) = default;

  /// Creates (or truncates) `path` and writes a header with a zero count.
  absl::Status Open(const std::filesystem::path& path);
  /// Appends one blob of `bytes` bytes of `dtype` elements. Returns the offset of its metadata
  /// record: the value a BlobFileValue.offset must hold.
  absl::StatusOr<uint64_t> Append(DType dtype, const void* data, size_t bytes);
  /// Streaming form of Append: BeginBlob writes the record of a blob of `bytes` bytes and returns
  /// its offset, WriteBlobData appends data (as many calls as needed), EndBlob checks that exactly
  /// `bytes` bytes came and pads. No other call may come in between.
  absl::StatusOr<uint64_t> BeginBlob(DType dtype, size_t bytes);
  absl::Status WriteBlobData(const void* data, size_t bytes);
  absl::Status EndBlob();
  /// Writes the blob count into the header and closes the file. Call once, after the last Append.
  absl::Status Finish();

  /// Blobs appended so far.
  uint32_t count() const { return count_; }
  /// Current file size in bytes (always a multiple of 64).
  uint64_t size() const { return size_; }

 private:
  absl::Status WriteAll(const void* data, size_t bytes);

  UniqueFile file_;
  std::filesystem::path path_;
  uint32_t count_ = 0;
  uint64_t size_ = 0;
  bool in_blob_ = false;
  uint64_t blob_left_ = 0;  ///< data bytes the open blob still expects
};

/// One blob as its metadata record describes it, after validation.
struct BlobRef {
  uint64_t record_offset = 0;
  /// The raw data type code of the record (see BlobDataType).
  uint32_t dtype_code = 0;
  /// The MIL dtype for the code; DType::kInvalid for codes MIL's DType lacks (UInt8, Int8).
  DType dtype = DType::kInvalid;
  uint64_t size = 0;
  uint64_t data_offset = 0;
};

/// Reads and checks a weight file. Every error names the file and the offset involved.
/// Reads are positional: a const reader may be shared between threads.
class WeightBlobReader {
 public:
  /// Opens `path`, which must be a regular file (core::RegularFile), and checks the header
  /// (size, version).
  static absl::StatusOr<WeightBlobReader> Open(const std::filesystem::path& path);
  /// Checks the header of an already opened file (a package's, opened inside the package).
  static absl::StatusOr<WeightBlobReader> FromFile(core::RegularFile file);

  /// Reads the metadata record at `record_offset` and checks its alignment, sentinel, data type
  /// and that the data lies within the file.
  absl::StatusOr<BlobRef> Read(uint64_t record_offset) const;
  /// The data bytes of a blob returned by Read().
  absl::StatusOr<std::vector<uint8_t>> ReadData(const BlobRef& blob) const;
  /// Walks the records one after another from offset 64, as many as the header counts.
  absl::StatusOr<std::vector<BlobRef>> ReadAll() const;

  /// Number of blobs according to the header.
  uint32_t count() const { return count_; }
  uint32_t version() const { return version_; }
  uint64_t file_size() const { return file_size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  absl::Status ReadAt(uint64_t offset, void* out, size_t bytes) const;

  std::optional<core::RegularFile> file_;
  std::filesystem::path path_;
  uint64_t file_size_ = 0;
  uint32_t count_ = 0;
  uint32_t version_ = 0;
};

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_WEIGHT_BLOB_H_
