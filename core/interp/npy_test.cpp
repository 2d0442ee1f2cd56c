// .npy round trips in each supported dtype, and the files NumPy itself writes.
#include "core/interp/npy.h"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>
#include <string>

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
  EXPECT_THAT(std::string(write("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 16)
                              .status()
                              .message()),
              ::testing::HasSubstr("'<i8' is not supported"));
  EXPECT_FALSE(write("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8).ok());
  absl::StatusOr<NpyArray> scalar =
      write("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8);
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->values.size(), 1u);
}

}  // namespace
}  // namespace ts2coreml::interp
