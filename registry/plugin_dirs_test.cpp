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
      DefaultPluginDirs("/opt/t2c/bin/ts2coreml", {"/flag/one", "rel"}, "/env/a::/env/b/:/env/c:");
  EXPECT_THAT(dirs, ElementsAre(fs::path("/opt/t2c/lib/ts2coreml/plugins"), fs::path("/env/a"),
                                fs::path("/env/b"), fs::path("/env/c"), fs::path("/flag/one"),
                                cwd / "rel"));
}

TEST(PluginDirsTest, RelativeEnvironmentEntriesAreSkippedWithAWarning) {
  std::vector<std::string> warnings;
  std::vector<fs::path> dirs =
      DefaultPluginDirs({}, {}, "/env/a:env_rel:./plugins:..:/env/b", &warnings);
  EXPECT_THAT(dirs, ElementsAre(fs::path("/env/a"), fs::path("/env/b")));
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0],
            "TS2COREML_PLUGIN_PATH entry 'env_rel' is relative and is ignored; use an absolute "
            "path or --plugin-dir");
  EXPECT_THAT(warnings[1], ::testing::HasSubstr("entry './plugins' is relative"));
  EXPECT_THAT(warnings[2], ::testing::HasSubstr("entry '..' is relative"));
  // Without a warnings vector they are skipped all the same.
  EXPECT_THAT(DefaultPluginDirs({}, {}, "env_rel"), ::testing::IsEmpty());
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
