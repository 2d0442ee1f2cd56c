#include "registry/plugin_security.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/test_support.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class PluginSecurityTest : public ::testing::Test {
 protected:
  PluginSecurityTest() : plugin_(dir_.WriteFile("p.so", "x")) {}

  TempDir dir_;
  fs::path plugin_;
};

TEST_F(PluginSecurityTest, PrivateFileInPrivateDirectoryPasses) {
  EXPECT_TRUE(CheckPluginPermissions(plugin_, ::geteuid()).ok());
}

TEST_F(PluginSecurityTest, WorldWritableFileIsRefused) {
  fs::permissions(plugin_, fs::perms::others_write, fs::perm_options::add);
  absl::Status s = CheckPluginPermissions(plugin_, ::geteuid());
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr(plugin_.string() + " is world-writable"));
  EXPECT_THAT(s.message(), HasSubstr("pass --allow-insecure-plugins"));
}

TEST_F(PluginSecurityTest, GroupWritableFileIsRefused) {
  fs::permissions(plugin_, fs::perms::group_write, fs::perm_options::add);
  EXPECT_THAT(CheckPluginPermissions(plugin_, ::geteuid()).message(),
              HasSubstr("is group-writable"));
}

TEST_F(PluginSecurityTest, WorldWritableDirectoryIsRefused) {
  fs::permissions(dir_.path(), fs::perms::others_write, fs::perm_options::add);
  absl::Status s = CheckPluginPermissions(plugin_, ::geteuid());
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr(fs::canonical(dir_.path()).string() + " is world-writable"));
}

TEST_F(PluginSecurityTest, ForeignOwnerIsRefused) {
  uid_t trusted = ::geteuid();
  if (::geteuid() == 0) {
    // As root: make the file belong to another user.
    ASSERT_EQ(::chown(plugin_.c_str(), 12345, static_cast<gid_t>(-1)), 0);
  } else {
    // Without root the file stays ours; trusting another uid creates the same condition.
    trusted = ::geteuid() + 1;
  }
  absl::Status s = CheckPluginPermissions(plugin_, trusted);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is owned by uid "));
  EXPECT_THAT(s.message(), HasSubstr("neither root nor the current user"));
}

TEST_F(PluginSecurityTest, SymlinkInWritableDirectoryIsRefused) {
  fs::path open_dir = dir_.Subdir("open");
  fs::create_symlink(plugin_, open_dir / "link.so");
  EXPECT_TRUE(CheckPluginPermissions(open_dir / "link.so", ::geteuid()).ok());
  fs::permissions(open_dir, fs::perms::others_write, fs::perm_options::add);
  EXPECT_THAT(CheckPluginPermissions(open_dir / "link.so", ::geteuid()).message(),
              HasSubstr(fs::canonical(open_dir).string() + " is world-writable"));
}

TEST_F(PluginSecurityTest, MissingFileIsNotFound) {
  EXPECT_EQ(CheckPluginPermissions(dir_.path() / "missing.so", ::geteuid()).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ts2coreml::registry
