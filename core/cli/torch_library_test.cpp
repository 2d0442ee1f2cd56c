/// Tests of LoadTorchLibrary (torch_library.h): the plugins' permission rule, one-line refusals
/// naming the file, and a library that loads.
#include "core/cli/torch_library.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class TorchLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/t2c-torch-library-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::permissions(dir_, fs::perms(0755));
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A file of `dir_` holding `text`, with `mode`.
  fs::path File(const std::string& name, const std::string& text, unsigned mode) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    fs::permissions(p, fs::perms(mode));
    return p;
  }

  fs::path dir_;
};

TEST_F(TorchLibraryTest, MissingFileIsAPluginErrorNamingIt) {
  const absl::Status s = LoadTorchLibrary(dir_ / "nope.so", false);
  EXPECT_EQ(ClassOf(s), ErrorClass::kPlugin);
  EXPECT_THAT(s.message(), HasSubstr("--torch-library " + (dir_ / "nope.so").string() + ": "));
}

TEST_F(TorchLibraryTest, WorldWritableFileIsRefusedUnlessAllowed) {
  const fs::path lib = File("ops.so", "not a library", 0666);
  absl::Status s = LoadTorchLibrary(lib, false);
  EXPECT_EQ(ClassOf(s), ErrorClass::kPlugin);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("ops.so is world-writable"),
                                 HasSubstr("--allow-insecure-plugins"), Not(HasSubstr("\n"))));
  // Allowed, the permission rule is skipped and dlopen has its say.
  s = LoadTorchLibrary(lib, true);
  EXPECT_EQ(ClassOf(s), ErrorClass::kPlugin);
  EXPECT_THAT(s.message(), HasSubstr("cannot be loaded: "));
}

TEST_F(TorchLibraryTest, ANonLibraryIsRefusedWithTheFix) {
  const absl::Status s = LoadTorchLibrary(File("ops.so", "not a library", 0644), false);
  EXPECT_EQ(ClassOf(s), ErrorClass::kPlugin);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("cannot be loaded: "), HasSubstr("TORCH_LIBRARY"),
                                 Not(HasSubstr("/proc/self/fd")), Not(HasSubstr("\n"))));
}

TEST_F(TorchLibraryTest, ASharedLibraryOfRootLoads) {
  // The C math library this test links: owned by root in a root-owned folder.
  Dl_info info{};
  double (*cosine)(double) = &std::cos;
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(cosine), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  EXPECT_TRUE(LoadTorchLibrary(info.dli_fname, false).ok()) << info.dli_fname;
}

}  // namespace
}  // namespace ts2coreml::core
