// .npy round trips in each supported dtype, and the files NumPy itself writes.
#include "core/interp/npy.h"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::interp {
namespace {

namespace fs = std::filesystem;

/// A folder for this test process, removed when it exits.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "npy_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path TempFile(const std::string& name) {
  static const ScratchDir dir;
  return dir.path() / name;
}

TEST(NpyTest, RoundTripsEachDtype) {
  NpyArray a;
  a.shape = {2, 3};
  a.values = {1, -2, 3.5f, 0.25f, 65504, -0.0f};
  for (NpyDtype d : {NpyDtype::kFloat16, NpyDtype::kFloat32, NpyDtype::kFloat64}) {
    const fs::path p = TempFile("a.npy");
    ASSERT_TRUE(WriteNpy(p, a, d).ok());
    absl::StatusOr<NpyArray> b = ReadNpy(p);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->shape, a.shape);
    EXPECT_EQ(b->values, a.values);
    EXPECT_EQ(b->dtype, d);
  }
}

TEST(NpyTest, ReadsIntegersAndBoolsExactly) {
  NpyArray a;
  a.shape = {4};
  a.ints = {0, -7, 2147483647, -2147483648LL};
  a.values = {0, -7, 2147483647.0f, -2147483648.0f};
  for (NpyDtype d : {NpyDtype::kInt32, NpyDtype::kInt64}) {
    const fs::path p = TempFile("i.npy");
    ASSERT_TRUE(WriteNpy(p, a, d).ok());
    absl::StatusOr<NpyArray> b = ReadNpy(p);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->dtype, d);
    EXPECT_EQ(b->ints, a.ints);
    EXPECT_EQ(b->values[1], -7.0f);
  }
  // int64 beyond float's 24-bit mantissa stays exact in `ints`.
  a.ints = {(int64_t{1} << 40) + 1, 3, 5, 7};
  const fs::path p = TempFile("i64.npy");
  ASSERT_TRUE(WriteNpy(p, a, NpyDtype::kInt64).ok());
  absl::StatusOr<NpyArray> b = ReadNpy(p);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->ints[0], (int64_t{1} << 40) + 1);

  NpyArray m;
  m.shape = {3};
  m.ints = {1, 0, 1};
  m.values = {1, 0, 1};
  const fs::path q = TempFile("b.npy");
  ASSERT_TRUE(WriteNpy(q, m, NpyDtype::kBool).ok());
  std::ifstream in(q, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(data.substr(10), ::testing::StartsWith("{'descr': '|b1'"));
  ASSERT_EQ(data.size(), 128u + 3u);  // header padded to 64-byte blocks, then 3 bytes
  absl::StatusOr<NpyArray> c = ReadNpy(q);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dtype, NpyDtype::kBool);
  EXPECT_EQ(c->ints, m.ints);
}

TEST(NpyTest, HeaderIsWhatNumpyWrites) {
  NpyArray a;
  a.shape = {3};
  a.values = {1, 2, 3};
  const fs::path p = TempFile("h.npy");
  ASSERT_TRUE(WriteNpy(p, a).ok());
  std::ifstream in(p, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // magic, version, length and header padded to a multiple of 64 bytes, then 3 floats.
  ASSERT_EQ(data.size(), 128u + 12u);
  EXPECT_EQ(data.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_THAT(data.substr(10, 118),
              ::testing::StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"));
  EXPECT_EQ(data[127], '\n');
}

TEST(NpyTest, RefusesFortranOrderAndOtherDtypes) {
  auto write = [](const std::string& header, size_t data_bytes) {
    std::string h = header;
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(h.size());
    out += '\0';
    out += h + std::string(data_bytes, '\0');
    const fs::path p = TempFile("bad.npy");
    std::ofstream(p, std::ios::binary) << out;
    return ReadNpy(p);
  };
  EXPECT_THAT(std::string(write("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16)
                              .status()
                              .message()),
              ::testing::HasSubstr("Fortran"));
  EXPECT_THAT(std::string(write("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", 16)
                              .status()
                              .message()),
              ::testing::HasSubstr("'>i8' is not supported"));
  EXPECT_THAT(
      std::string(
          write("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", 4).status().message()),
      ::testing::HasSubstr("use float16, float32, float64, int32, int64 or bool"));
  EXPECT_FALSE(write("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8).ok());
  absl::StatusOr<NpyArray> scalar =
      write("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8);
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->values.size(), 1u);
}

// A version 1.0 file with `header` padded as NumPy pads it, then `data_bytes` zero bytes.
fs::path WriteRaw(const std::string& name, const std::string& header, size_t data_bytes) {
  std::string h = header;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  out += h + std::string(data_bytes, '\0');
  const fs::path p = TempFile(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << out;
  return p;
}

std::string ErrorOf(const fs::path& p, const NpyReadLimits& limits = {}) {
  absl::StatusOr<NpyArray> a = ReadNpy(p, limits);
  return a.ok() ? "ok" : std::string(a.status().message());
}

TEST(NpyTest, ParsesTheHeaderVariantsNumpyWrites) {
  // Double quotes, Python 2 longs, keys in another order, no trailing comma.
  absl::StatusOr<NpyArray> a = ReadNpy(
      WriteRaw("v.npy", "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<f4\"}", 24));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->values.size(), 6u);
}

TEST(NpyTest, RefusesMalformedHeaders) {
  using ::testing::HasSubstr;
  const std::string start = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  std::string rank33 = "(";
  for (int i = 0; i < 33; ++i) rank33 += "1, ";
  rank33 += ")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {start + "(-1,), }", "non-negative"},
      {start + "(99999999999999999999,), }", "does not fit in 64 bits"},
      {start + rank33 + ", }", "more than 32 dimensions"},
      {start + "(1,), 'extra': 1}", "unexpected or repeated key 'extra'"},
      {start + "(1,), 'shape': (1,)}", "repeated key 'shape'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured dtypes"},
      {"{'descr': '<f4', 'shape': (1,)}", "lacks"},
      {"{'descr': '<f4", "not closed"},
      {start + "(1,)} trailing", "text after its dict"},
      {"[1, 2]", "not a dict literal"},
      {start + "(1 2), }", "not a tuple of integers"},
  };
  for (const auto& [header, why] : cases) {
    SCOPED_TRACE(header);
    const fs::path p = WriteRaw("m.npy", header, 4);
    const std::string error = ErrorOf(p);
    EXPECT_THAT(error, HasSubstr(why));
    EXPECT_THAT(error, HasSubstr(p.string()));
  }
}

TEST(NpyTest, CapsTheHeaderAndTheSize) {
  using ::testing::HasSubstr;
  // NumPy's own reader refuses headers over 10000 bytes.
  const std::string big = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), " +
                          std::string(kMaxNpyHeaderBytes, ' ') + "}";
  EXPECT_THAT(ErrorOf(WriteRaw("big.npy", big, 4)), HasSubstr("more than the 10000"));
  const fs::path p = WriteRaw("n.npy",
                              "{'descr': '<f4', 'fortran_order': False, 'shape': "
                              "(9223372036854775807, 9223372036854775807, 4), }",
                              16);
  EXPECT_THAT(ErrorOf(p), HasSubstr("elements allowed here"));
  const fs::path six =
      WriteRaw("six.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
  EXPECT_EQ(ErrorOf(six, NpyReadLimits{6}), "ok");
  EXPECT_THAT(ErrorOf(six, NpyReadLimits{5}), HasSubstr("shape (2, 3) has more than the 5"));
  EXPECT_THAT(ErrorOf(TempFile("missing.npy")), HasSubstr("no such file"));
  EXPECT_THAT(ErrorOf("/dev/zero"), HasSubstr("character device, not a regular file"));
  EXPECT_THAT(ErrorOf(TempFile("")), HasSubstr("folder, not a regular file"));
}

TEST(NpyTest, PrintsShapesAsNumpyDoes) {
  EXPECT_EQ(NpyShapeString({}), "()");
  EXPECT_EQ(NpyShapeString({3}), "(3,)");
  EXPECT_EQ(NpyShapeString({1, 3, 224, 224}), "(1, 3, 224, 224)");
}

}  // namespace
}  // namespace ts2coreml::interp
