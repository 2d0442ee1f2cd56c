#include "core/mil/weight_blob.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "core/mil/test_dir.h"
#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;

fs::path TestDir() { return test::TestDir("mil_blob_"); }

std::vector<uint8_t> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

uint32_t U32At(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(b.at(at + i)) << (8 * i);
  return v;
}

uint64_t U64At(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b.at(at + i)) << (8 * i);
  return v;
}

// Writes one fp32 blob of `n` elements 0, 1, 2, ... and returns the file path.
fs::path WriteOneFloatBlob(const fs::path& dir, size_t n) {
  std::vector<float> data(n);
  std::iota(data.begin(), data.end(), 0.0f);
  WeightBlobWriter w;
  const fs::path path = dir / "weight.bin";
  EXPECT_TRUE(w.Open(path).ok());
  EXPECT_EQ(*w.Append(DType::kFloat32, data.data(), data.size() * 4), 64u);
  EXPECT_TRUE(w.Finish().ok());
  return path;
}

TEST(MilWeightBlobTest, WritesTheDocumentedLayout) {
  const fs::path path = TestDir() / "weight.bin";
  const uint16_t halves[3] = {0x3c00, 0x3800, 0xc000};
  std::vector<float> floats(17, 2.5f);
  std::vector<float> exact(16, -1.0f);
  WeightBlobWriter w;
  ASSERT_TRUE(w.Open(path).ok());
  absl::StatusOr<uint64_t> a = w.Append(DType::kFloat16, halves, sizeof halves);
  absl::StatusOr<uint64_t> b = w.Append(DType::kFloat32, floats.data(), floats.size() * 4);
  absl::StatusOr<uint64_t> c = w.Append(DType::kFloat32, exact.data(), exact.size() * 4);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, 64u);   // record 64..128, data 128..134, padded to 192
  EXPECT_EQ(*b, 192u);  // record 192..256, data 256..324, padded to 384
  EXPECT_EQ(*c, 384u);  // record 384..448, data 448..512: already aligned
  EXPECT_EQ(w.count(), 3u);
  EXPECT_EQ(w.size(), 512u);
  ASSERT_TRUE(w.Finish().ok());

  const std::vector<uint8_t> file = ReadBytes(path);
  ASSERT_EQ(file.size(), 512u);
  EXPECT_EQ(U32At(file, 0), 3u);  // count
  EXPECT_EQ(U32At(file, 4), 2u);  // version
  for (size_t i = 8; i < 64; ++i) EXPECT_EQ(file[i], 0) << "header byte " << i;
  EXPECT_EQ(file[64], 0xef);  // sentinel, little-endian
  EXPECT_EQ(file[67], 0xde);
  EXPECT_EQ(U32At(file, 64 + 4), 1u);  // Float16
  EXPECT_EQ(U64At(file, 64 + 8), 6u);
  EXPECT_EQ(U64At(file, 64 + 16), 128u);
  for (size_t i = 64 + 24; i < 128; ++i) EXPECT_EQ(file[i], 0) << "record byte " << i;
  EXPECT_EQ(file[128], 0x00);
  EXPECT_EQ(file[129], 0x3c);
  for (size_t i = 134; i < 192; ++i) EXPECT_EQ(file[i], 0) << "padding byte " << i;
  EXPECT_EQ(U32At(file, 192 + 4), 2u);  // Float32
  EXPECT_EQ(U64At(file, 192 + 8), 68u);
  EXPECT_EQ(U64At(file, 192 + 16), 256u);
}

TEST(MilWeightBlobTest, ReaderRoundTrip) {
  const fs::path path = TestDir() / "weight.bin";
  const int32_t ints[5] = {1, -2, 3, -4, 5};
  std::vector<float> floats(20);
  std::iota(floats.begin(), floats.end(), 0.5f);
  WeightBlobWriter w;
  ASSERT_TRUE(w.Open(path).ok());
  const uint64_t ri = *w.Append(DType::kInt32, ints, sizeof ints);
  const uint64_t rf = *w.Append(DType::kFloat32, floats.data(), floats.size() * 4);
  ASSERT_TRUE(w.Finish().ok());

  absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 2u);
  EXPECT_EQ(r->version(), 2u);
  absl::StatusOr<BlobRef> bi = r->Read(ri);
  ASSERT_TRUE(bi.ok()) << bi.status();
  EXPECT_EQ(bi->dtype, DType::kInt32);
  EXPECT_EQ(bi->dtype_code, 14u);
  EXPECT_EQ(bi->size, sizeof ints);
  EXPECT_EQ(bi->data_offset, ri + 64);
  absl::StatusOr<std::vector<uint8_t>> di = r->ReadData(*bi);
  ASSERT_TRUE(di.ok());
  ASSERT_EQ(di->size(), sizeof ints);
  EXPECT_EQ(std::memcmp(di->data(), ints, sizeof ints), 0);

  absl::StatusOr<BlobRef> bf = r->Read(rf);
  ASSERT_TRUE(bf.ok()) << bf.status();
  EXPECT_EQ(bf->dtype, DType::kFloat32);
  EXPECT_EQ(bf->data_offset % 64, 0u);
  absl::StatusOr<std::vector<uint8_t>> df = r->ReadData(*bf);
  ASSERT_TRUE(df.ok());
  std::vector<float> back(20);
  std::memcpy(back.data(), df->data(), df->size());
  EXPECT_EQ(back, floats);

  absl::StatusOr<std::vector<BlobRef>> all = r->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].record_offset, ri);
  EXPECT_EQ((*all)[1].record_offset, rf);
}

TEST(MilWeightBlobTest, EmptyFileIsJustAHeader) {
  const fs::path path = TestDir() / "weight.bin";
  WeightBlobWriter w;
  ASSERT_TRUE(w.Open(path).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(fs::file_size(path), 64u);
  absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 0u);
  EXPECT_TRUE(r->ReadAll()->empty());
  EXPECT_EQ(r->Read(64).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MilWeightBlobTest, CorruptedSentinel) {
  const fs::path path = WriteOneFloatBlob(TestDir(), 12);
  std::vector<uint8_t> bytes = ReadBytes(path);
  bytes[64] ^= 0xff;
  WriteBytes(path, bytes);
  absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<BlobRef> ref = r->Read(64);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ref.status().message().find("sentinel"), absl::string_view::npos) << ref.status();
  EXPECT_NE(ref.status().message().find("offset 0x40"), absl::string_view::npos) << ref.status();
  EXPECT_FALSE(r->ReadAll().ok());
}

TEST(MilWeightBlobTest, TruncatedFile) {
  const fs::path path = WriteOneFloatBlob(TestDir(), 12);  // data at 128..176
  fs::resize_file(path, 140);
  absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<BlobRef> ref = r->Read(64);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(ref.status().message().find("past the end"), absl::string_view::npos) << ref.status();

  fs::resize_file(path, 30);  // not even a header
  absl::StatusOr<WeightBlobReader> short_file = WeightBlobReader::Open(path);
  EXPECT_EQ(short_file.status().code(), absl::StatusCode::kDataLoss);
}

TEST(MilWeightBlobTest, BadOffsets) {
  const fs::path path = WriteOneFloatBlob(TestDir(), 12);
  absl::StatusOr<WeightBlobReader> r = WeightBlobReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<BlobRef> past = r->Read(4096);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(past.status().message().find("0x1000"), absl::string_view::npos) << past.status();
  EXPECT_EQ(r->Read(65).status().code(), absl::StatusCode::kDataLoss);   // unaligned
  EXPECT_EQ(r->Read(0).status().code(), absl::StatusCode::kDataLoss);    // the header
  EXPECT_EQ(r->Read(128).status().code(), absl::StatusCode::kDataLoss);  // data, no sentinel
}

TEST(MilWeightBlobTest, BadRecordFields) {
  const fs::path path = WriteOneFloatBlob(TestDir(), 12);
  const std::vector<uint8_t> good = ReadBytes(path);

  std::vector<uint8_t> bad_type = good;
  bad_type[64 + 4] = 99;
  WriteBytes(path, bad_type);
  EXPECT_NE(WeightBlobReader::Open(path)->Read(64).status().message().find("data type code 99"),
            absl::string_view::npos);

  std::vector<uint8_t> unaligned = good;
  unaligned[64 + 16] = 130;  // data offset 130
  WriteBytes(path, unaligned);
  EXPECT_EQ(WeightBlobReader::Open(path)->Read(64).status().code(), absl::StatusCode::kDataLoss);

  std::vector<uint8_t> huge = good;
  huge[64 + 8 + 7] = 0x80;  // size 2^63 + 48
  WriteBytes(path, huge);
  EXPECT_EQ(WeightBlobReader::Open(path)->Read(64).status().code(), absl::StatusCode::kOutOfRange);

  std::vector<uint8_t> version = good;
  version[4] = 3;
  WriteBytes(path, version);
  EXPECT_EQ(WeightBlobReader::Open(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MilWeightBlobTest, WriterRejectsMisuse) {
  const fs::path dir = TestDir();
  WeightBlobWriter closed;
  const float one = 1.0f;
  EXPECT_EQ(closed.Append(DType::kFloat32, &one, 4).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(closed.Finish().code(), absl::StatusCode::kFailedPrecondition);

  WeightBlobWriter w;
  ASSERT_TRUE(w.Open(dir / "weight.bin").ok());
  const bool flag = true;
  EXPECT_EQ(w.Append(DType::kBool, &flag, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.Append(DType::kFloat32, &one, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.count(), 0u);
  EXPECT_TRUE(w.Finish().ok());

  WeightBlobWriter nowhere;
  EXPECT_FALSE(nowhere.Open(dir / "missing" / "weight.bin").ok());
  EXPECT_FALSE(WeightBlobReader::Open(dir / "missing.bin").ok());
}

TEST(MilWeightBlobTest, StreamedBlobEqualsAppendedBlob) {
  const fs::path dir = TestDir();
  std::vector<uint16_t> halves(100);
  std::iota(halves.begin(), halves.end(), 1);
  WeightBlobWriter a, b;
  ASSERT_TRUE(a.Open(dir / "a.bin").ok());
  ASSERT_TRUE(b.Open(dir / "b.bin").ok());
  ASSERT_TRUE(a.Append(DType::kFloat16, halves.data(), 200).ok());
  absl::StatusOr<uint64_t> offset = b.BeginBlob(DType::kFloat16, 200);
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 64u);
  ASSERT_TRUE(b.WriteBlobData(halves.data(), 150).ok());
  EXPECT_FALSE(b.EndBlob().ok());                         // 50 bytes short
  EXPECT_FALSE(b.WriteBlobData(halves.data(), 51).ok());  // overruns the record
  ASSERT_TRUE(b.WriteBlobData(reinterpret_cast<const uint8_t*>(halves.data()) + 150, 50).ok());
  EXPECT_FALSE(b.Finish().ok());  // a blob is still open
  ASSERT_TRUE(b.EndBlob().ok());
  ASSERT_TRUE(a.Finish().ok());
  ASSERT_TRUE(b.Finish().ok());
  std::ifstream fa(dir / "a.bin", std::ios::binary), fb(dir / "b.bin", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(fa), {}),
            std::string(std::istreambuf_iterator<char>(fb), {}));
}

}  // namespace
}  // namespace ts2coreml::mil
