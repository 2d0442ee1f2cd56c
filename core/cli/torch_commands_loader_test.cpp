/// Tests of loading the LibTorch commands' library: a missing file, a file the permission rule
/// refuses, a library without the entry point, and the real library of this build running a
/// command. Every refusal is one line of class kInternal starting with the library's path.
#include "core/cli/torch_commands_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

/// A fresh folder under /tmp (root-owned and sticky, so the permission rule accepts it), mode 0755.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "t2c-loader-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
    fs::permissions(path_, fs::perms(0755));
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void ExpectOneLineInternalError(const absl::Status& status, const fs::path& library) {
  EXPECT_EQ(ClassOf(status), ErrorClass::kInternal) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(library.string() + ": "));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
}

TEST(TorchCommandsLoaderTest, LibraryPathIsBesideThePluginsOfTheExecutable) {
  EXPECT_EQ(TorchCommandsLibraryPath("/opt/t2c/bin/ts2coreml"),
            fs::path("/opt/t2c/lib/ts2coreml/libts2coreml_torch_commands.so"));
}

TEST(TorchCommandsLoaderTest, MissingLibraryNamesThePathAndWhatToDo) {
  ScratchDir dir;
  const fs::path library = dir.path() / "lib/ts2coreml/libts2coreml_torch_commands.so";
  absl::StatusOr<ts2coreml_torch_commands_main_fn> entry = LoadTorchCommands(library, false);
  ASSERT_FALSE(entry.ok());
  ExpectOneLineInternalError(entry.status(), library);
  EXPECT_THAT(std::string(entry.status().message()),
              HasSubstr("cannot load the convert, coverage and verify commands"));
  EXPECT_THAT(std::string(entry.status().message()), HasSubstr("reinstall ts2coreml"));
}

TEST(TorchCommandsLoaderTest, WorldWritableLibraryIsRefusedUnlessAllowed) {
  ScratchDir dir;
  const fs::path library = dir.path() / "libts2coreml_torch_commands.so";
  fs::copy_file(TS2COREML_TORCH_COMMANDS_LIBRARY, library);
  fs::permissions(library, fs::perms(0666));
  absl::StatusOr<ts2coreml_torch_commands_main_fn> refused = LoadTorchCommands(library, false);
  ASSERT_FALSE(refused.ok());
  ExpectOneLineInternalError(refused.status(), library);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("world-writable"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--allow-insecure-plugins"));
  EXPECT_TRUE(LoadTorchCommands(library, true).ok());
}

TEST(TorchCommandsLoaderTest, LibraryWithoutTheEntryIsRefused) {
  // A built-in plugin: a real shared library exporting only the plugin entry.
  fs::path plugin;
  for (const fs::directory_entry& e : fs::directory_iterator(TS2COREML_TEST_PLUGIN_DIR)) {
    if (e.path().extension() == ".so") plugin = e.path();
  }
  ASSERT_FALSE(plugin.empty()) << "no plugin in " << TS2COREML_TEST_PLUGIN_DIR;
  ScratchDir dir;
  const fs::path library = dir.path() / "libts2coreml_torch_commands.so";
  fs::copy_file(plugin, library);
  fs::permissions(library, fs::perms(0644));
  absl::StatusOr<ts2coreml_torch_commands_main_fn> entry = LoadTorchCommands(library, false);
  ASSERT_FALSE(entry.ok());
  ExpectOneLineInternalError(entry.status(), library);
  EXPECT_THAT(std::string(entry.status().message()),
              HasSubstr("does not export ts2coreml_torch_commands_main"));
}

TEST(TorchCommandsLoaderTest, NotALibraryIsRefusedWithTheLoadersReason) {
  ScratchDir dir;
  const fs::path library = dir.path() / "libts2coreml_torch_commands.so";
  {
    std::ofstream out(library);
    for (int i = 0; i < 100; ++i) out << "not an ELF file, long enough for the loader to read\n";
  }
  fs::permissions(library, fs::perms(0644));
  absl::StatusOr<ts2coreml_torch_commands_main_fn> entry = LoadTorchCommands(library, false);
  ASSERT_FALSE(entry.ok());
  ExpectOneLineInternalError(entry.status(), library);
  EXPECT_THAT(std::string(entry.status().message()), HasSubstr("ELF"));
}

TEST(TorchCommandsLoaderTest, TheBuiltLibraryRunsItsCommandsAndRefusesOthers) {
  absl::StatusOr<ts2coreml_torch_commands_main_fn> entry =
      LoadTorchCommands(TS2COREML_TORCH_COMMANDS_LIBRARY, false);
  ASSERT_TRUE(entry.ok()) << entry.status();
  const char* coverage_help[] = {"coverage", "--help"};
  testing::internal::CaptureStdout();
  EXPECT_EQ((*entry)(2, coverage_help), 0);
  EXPECT_THAT(testing::internal::GetCapturedStdout(), HasSubstr("coverage MODEL.pt"));
  const char* convert_without_model[] = {"convert"};
  testing::internal::CaptureStderr();
  EXPECT_EQ((*entry)(1, convert_without_model), static_cast<int>(ErrorClass::kUsage));
  testing::internal::GetCapturedStderr();
  const char* inspect[] = {"inspect", "x.mlpackage"};
  testing::internal::CaptureStderr();
  EXPECT_EQ((*entry)(2, inspect), static_cast<int>(ErrorClass::kUsage));
  EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("unknown command 'inspect'"));
}

}  // namespace
}  // namespace ts2coreml::core
