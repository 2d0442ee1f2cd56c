/// Test helper for the core/mil tests: fresh scratch folders, removed when the test program ends
/// unless a test failed (then kept for inspection).
#ifndef TS2COREML_CORE_MIL_TEST_DIR_H_
#define TS2COREML_CORE_MIL_TEST_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

namespace ts2coreml::mil::test {

/// Folders made by TestDir().
inline std::vector<std::filesystem::path>& CreatedDirs() {
  static auto* dirs = new std::vector<std::filesystem::path>;
  return *dirs;
}

class RemoveTestDirs : public ::testing::Environment {
 public:
  void TearDown() override {
    if (::testing::UnitTest::GetInstance()->Failed()) return;
    std::error_code ec;
    for (const std::filesystem::path& dir : CreatedDirs()) std::filesystem::remove_all(dir, ec);
  }
};
inline ::testing::Environment* const kRemoveTestDirs =
    ::testing::AddGlobalTestEnvironment(new RemoveTestDirs);

/// A fresh, empty folder for the running test, named `prefix` + the test's name + the pid.
inline std::filesystem::path TestDir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              (prefix + info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CreatedDirs().push_back(dir);
  return dir;
}

/// A whole file as bytes in a string.
inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace ts2coreml::mil::test

#endif  // TS2COREML_CORE_MIL_TEST_DIR_H_
