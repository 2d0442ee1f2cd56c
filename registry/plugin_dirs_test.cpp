#include "registry/plugin_dirs.h"

#include <filesystem>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

TEST(PluginDirsTest, OrderIsBuiltinThenEnvironmentThenFlags) {
  const fs::path cwd = fs::current_path();
  std::vector<fs::path> dirs =
      DefaultPluginDirs("/opt/t2c/bin/ts2coreml", {"/flag/one", "rel"}, "/env/a::/env/b/:env_rel:");
  EXPECT_THAT(dirs,
              ElementsAre(fs::path("/opt/t2c/lib/ts2coreml/plugins"), fs::path("/env/a"),
                          fs::path("/env/b"), cwd / "env_rel", fs::path("/flag/one"), cwd / "rel"));
}

TEST(PluginDirsTest, EmptyEntriesNeverMeanTheCurrentDirectory) {
  EXPECT_TRUE(DefaultPluginDirs({}, {}, nullptr).empty());
  EXPECT_TRUE(DefaultPluginDirs({}, {}, "").empty());
  EXPECT_TRUE(DefaultPluginDirs({}, {}, ":::").empty());
  EXPECT_TRUE(DefaultPluginDirs({}, {fs::path()}, nullptr).empty());
}

TEST(PluginDirsTest, CurrentDirectoryOnlyWhenNamed) {
  EXPECT_THAT(DefaultPluginDirs({}, {"."}, nullptr), ElementsAre(fs::current_path()));
}

TEST(PluginDirsTest, DuplicatesKeepTheirFirstPosition) {
  std::vector<fs::path> dirs = DefaultPluginDirs(
      "/opt/t2c/bin/ts2coreml", {"/x", "/opt/t2c/lib/ts2coreml/plugins/"}, "/x/:/y/../x");
  EXPECT_THAT(dirs, ElementsAre(fs::path("/opt/t2c/lib/ts2coreml/plugins"), fs::path("/x")));
}

TEST(PluginDirsTest, RelativeExecutableIsResolved) {
  std::vector<fs::path> dirs = DefaultPluginDirs("bin/ts2coreml", {}, nullptr);
  EXPECT_THAT(dirs, ElementsAre((fs::current_path() / "lib/ts2coreml/plugins").lexically_normal()));
}

TEST(PluginDirsTest, ExecutablePathIsThisTest) {
  absl::StatusOr<fs::path> exe = ExecutablePath();
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_TRUE(exe->is_absolute());
  EXPECT_TRUE(fs::is_regular_file(*exe));
  EXPECT_EQ(exe->filename(), "registry_test");
}

}  // namespace
}  // namespace ts2coreml::registry
