#include "core/mil/weight_blob.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ts2coreml::mil {
namespace {

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint64_t AlignUp(uint64_t v) { return (v + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment; }

std::string Hex(uint64_t v) { return absl::StrFormat("0x%x", v); }

std::string ErrnoText() { return std::strerror(errno); }

bool Seek(std::FILE* f, uint64_t offset) {
  if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) return false;
  return fseeko(f, static_cast<off_t>(offset), SEEK_SET) == 0;
}

}  // namespace

absl::StatusOr<BlobDataType> BlobDataTypeFor(DType dtype) {
  switch (dtype) {
    case DType::kFloat16:
      return BlobDataType::kFloat16;
    case DType::kFloat32:
      return BlobDataType::kFloat32;
    case DType::kInt32:
      return BlobDataType::kInt32;
    case DType::kBool:
    case DType::kString:
    case DType::kInvalid:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("dtype ", std::string(DTypeName(dtype)),
                                                 " cannot be stored in a weight blob file"));
}

std::string BlobDataTypeName(uint32_t code) {
  switch (static_cast<BlobDataType>(code)) {
    case BlobDataType::kFloat16:
      return "Float16";
    case BlobDataType::kFloat32:
      return "Float32";
    case BlobDataType::kUInt8:
      return "UInt8";
    case BlobDataType::kInt8:
      return "Int8";
    case BlobDataType::kInt32:
      return "Int32";
  }
  return absl::StrCat("unknown(", code, ")");
}

// ---------------------------------------------------------------------------------------------
// WeightBlobWriter

absl::Status WeightBlobWriter::WriteAll(const void* data, size_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  if (std::fwrite(data, 1, bytes, file_.get()) != bytes) {
    return absl::InternalError(absl::StrCat("cannot write ", bytes, " bytes at offset ", Hex(size_),
                                            " of '", path_.string(), "': ", ErrnoText()));
  }
  size_ += bytes;
  return absl::OkStatus();
}

absl::Status WeightBlobWriter::Open(const std::filesystem::path& path) {
  if (file_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("weight file '", path_.string(), "' is already open"));
  }
  UniqueFile f(std::fopen(path.c_str(), "wb"));
  if (f == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create weight file '", path.string(), "': ", ErrnoText()));
  }
  file_ = std::move(f);
  path_ = path;
  count_ = 0;
  size_ = 0;
  in_blob_ = false;
  blob_left_ = 0;
  uint8_t header[kBlobRecordSize] = {};
  PutU32(header + 0, 0);
  PutU32(header + 4, kBlobFileVersion);
  return WriteAll(header, sizeof header);
}

absl::StatusOr<uint64_t> WeightBlobWriter::Append(DType dtype, const void* data, size_t bytes) {
  if (bytes > 0 && data == nullptr) return absl::InvalidArgumentError("blob data is null");
  absl::StatusOr<uint64_t> record_offset = BeginBlob(dtype, bytes);
  if (!record_offset.ok()) return record_offset.status();
  if (absl::Status s = WriteBlobData(data, bytes); !s.ok()) return s;
  if (absl::Status s = EndBlob(); !s.ok()) return s;
  return record_offset;
}

absl::StatusOr<uint64_t> WeightBlobWriter::BeginBlob(DType dtype, size_t bytes) {
  if (file_ == nullptr) return absl::FailedPreconditionError("weight file is not open");
  if (in_blob_) return absl::FailedPreconditionError("the previous blob was not ended");
  absl::StatusOr<BlobDataType> code = BlobDataTypeFor(dtype);
  if (!code.ok()) return code.status();
  if (count_ == std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError("too many blobs for one weight file");
  }
  const size_t elem = DTypeSize(dtype);
  if (bytes % elem != 0) {
    return absl::InvalidArgumentError(absl::StrCat(bytes, " bytes is not a whole number of ",
                                                   std::string(DTypeName(dtype)), " elements"));
  }
  // size_ is always aligned: the header, records and padded data all end on a 64-byte boundary.
  const uint64_t record_offset = size_;
  uint8_t record[kBlobRecordSize] = {};
  PutU32(record + 0, kBlobSentinel);
  PutU32(record + 4, static_cast<uint32_t>(*code));
  PutU64(record + 8, bytes);
  PutU64(record + 16, record_offset + kBlobRecordSize);
  if (absl::Status s = WriteAll(record, sizeof record); !s.ok()) return s;
  in_blob_ = true;
  blob_left_ = bytes;
  return record_offset;
}

absl::Status WeightBlobWriter::WriteBlobData(const void* data, size_t bytes) {
  if (!in_blob_) return absl::FailedPreconditionError("no blob was begun");
  if (bytes > blob_left_) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob data overruns its record by ", bytes - blob_left_, " bytes"));
  }
  if (bytes > 0 && data == nullptr) return absl::InvalidArgumentError("blob data is null");
  if (absl::Status s = WriteAll(data, bytes); !s.ok()) return s;
  blob_left_ -= bytes;
  return absl::OkStatus();
}

absl::Status WeightBlobWriter::EndBlob() {
  if (!in_blob_) return absl::FailedPreconditionError("no blob was begun");
  if (blob_left_ != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob ended ", blob_left_, " bytes short of its record's size"));
  }
  static constexpr uint8_t kZeros[kBlobAlignment] = {};
  if (absl::Status s = WriteAll(kZeros, AlignUp(size_) - size_); !s.ok()) return s;
  in_blob_ = false;
  ++count_;
  return absl::OkStatus();
}

absl::Status WeightBlobWriter::Finish() {
  if (file_ == nullptr) return absl::FailedPreconditionError("weight file is not open");
  if (in_blob_) return absl::FailedPreconditionError("the last blob was not ended");
  uint8_t count[4];
  PutU32(count, count_);
  if (!Seek(file_.get(), 0) || std::fwrite(count, 1, sizeof count, file_.get()) != sizeof count) {
    return absl::InternalError(
        absl::StrCat("cannot write the blob count into '", path_.string(), "': ", ErrnoText()));
  }
  std::FILE* f = file_.release();
  if (std::fclose(f) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot close weight file '", path_.string(), "': ", ErrnoText()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// WeightBlobReader

absl::StatusOr<WeightBlobReader> WeightBlobReader::Open(const std::filesystem::path& path) {
  absl::StatusOr<core::RegularFile> file = core::RegularFile::Open(path);
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat("cannot open weight file: ", file.status().message()));
  }
  return FromFile(*std::move(file));
}

absl::StatusOr<WeightBlobReader> WeightBlobReader::FromFile(core::RegularFile file) {
  WeightBlobReader r;
  r.path_ = file.path();
  r.file_size_ = file.size();
  r.file_.emplace(std::move(file));
  const std::string& path = r.path_.string();
  if (r.file_size_ < kBlobRecordSize) {
    return absl::DataLossError(absl::StrCat("weight file '", path, "' is ", r.file_size_,
                                            " bytes, shorter than its 64-byte header"));
  }
  uint8_t header[8];
  if (absl::Status s = r.ReadAt(0, header, sizeof header); !s.ok()) return s;
  r.count_ = GetU32(header + 0);
  r.version_ = GetU32(header + 4);
  if (r.version_ != kBlobFileVersion) {
    return absl::DataLossError(absl::StrCat("weight file '", path, "' has version ", r.version_,
                                            " at offset 0x4, expected ", kBlobFileVersion));
  }
  return r;
}

absl::Status WeightBlobReader::ReadAt(uint64_t offset, void* out, size_t bytes) const {
  if (offset > file_size_ || bytes > file_size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat("reading ", bytes, " bytes at offset ", Hex(offset),
                                              " goes past the end of '", path_.string(), "' (",
                                              file_size_, " bytes)"));
  }
  if (absl::Status s = file_->ReadAt(offset, out, bytes); !s.ok()) {
    return absl::DataLossError(absl::StrCat("cannot read ", bytes, " bytes at offset ", Hex(offset),
                                            " of '", path_.string(), "': ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<BlobRef> WeightBlobReader::Read(uint64_t record_offset) const {
  const std::string where =
      absl::StrCat("blob record at offset ", Hex(record_offset), " of '", path_.string(), "'");
  if (record_offset % kBlobAlignment != 0) {
    return absl::DataLossError(absl::StrCat(where, " is not 64-byte aligned"));
  }
  if (record_offset < kBlobRecordSize) {
    return absl::DataLossError(absl::StrCat(where, " overlaps the file header"));
  }
  if (record_offset > file_size_ || file_size_ - record_offset < kBlobRecordSize) {
    return absl::OutOfRangeError(
        absl::StrCat(where, " lies past the end of the file (", file_size_, " bytes)"));
  }
  uint8_t record[kBlobRecordSize];
  if (absl::Status s = ReadAt(record_offset, record, sizeof record); !s.ok()) return s;
  const uint32_t sentinel = GetU32(record + 0);
  if (sentinel != kBlobSentinel) {
    return absl::DataLossError(
        absl::StrCat(where, " has sentinel ", Hex(sentinel), ", expected 0xdeadbeef"));
  }
  BlobRef ref;
  ref.record_offset = record_offset;
  ref.dtype_code = GetU32(record + 4);
  ref.size = GetU64(record + 8);
  ref.data_offset = GetU64(record + 16);
  switch (static_cast<BlobDataType>(ref.dtype_code)) {
    case BlobDataType::kFloat16:
      ref.dtype = DType::kFloat16;
      break;
    case BlobDataType::kFloat32:
      ref.dtype = DType::kFloat32;
      break;
    case BlobDataType::kInt32:
      ref.dtype = DType::kInt32;
      break;
    case BlobDataType::kUInt8:
    case BlobDataType::kInt8:
      ref.dtype = DType::kInvalid;
      break;
    default:
      return absl::DataLossError(
          absl::StrCat(where, " has unknown data type code ", ref.dtype_code));
  }
  if (ref.data_offset % kBlobAlignment != 0) {
    return absl::DataLossError(
        absl::StrCat(where, ": data offset ", Hex(ref.data_offset), " is not 64-byte aligned"));
  }
  if (ref.data_offset < record_offset + kBlobRecordSize) {
    return absl::DataLossError(
        absl::StrCat(where, ": data offset ", Hex(ref.data_offset), " overlaps the record itself"));
  }
  if (ref.data_offset > file_size_ || ref.size > file_size_ - ref.data_offset) {
    return absl::OutOfRangeError(
        absl::StrCat(where, ": data of ", ref.size, " bytes at offset ", Hex(ref.data_offset),
                     " goes past the end of the file (", file_size_, " bytes)"));
  }
  return ref;
}

absl::StatusOr<std::vector<uint8_t>> WeightBlobReader::ReadData(const BlobRef& blob) const {
  if (blob.size > std::numeric_limits<size_t>::max()) {
    return absl::ResourceExhaustedError("blob too large for this platform");
  }
  std::vector<uint8_t> data(static_cast<size_t>(blob.size));
  if (absl::Status s = ReadAt(blob.data_offset, data.data(), data.size()); !s.ok()) return s;
  return data;
}

absl::StatusOr<std::vector<BlobRef>> WeightBlobReader::ReadAll() const {
  std::vector<BlobRef> blobs;
  uint64_t offset = kBlobRecordSize;
  for (uint32_t i = 0; i < count_; ++i) {
    absl::StatusOr<BlobRef> ref = Read(offset);
    if (!ref.ok()) {
      return absl::Status(ref.status().code(),
                          absl::StrCat("blob ", i, " of ", count_, ": ", ref.status().message()));
    }
    blobs.push_back(*ref);
    offset = AlignUp(ref->data_offset + ref->size);
  }
  return blobs;
}

}  // namespace ts2coreml::mil
