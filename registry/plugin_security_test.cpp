#include "registry/plugin_security.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

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

TEST_F(PluginSecurityTest, EveryAncestorDirectoryIsChecked) {
  // outer/inner/p.so: a writable or foreign-owned directory anywhere above the plugin's own folder
  // lets someone swap the folder, so it is refused like the folder itself.
  const fs::path outer = dir_.Subdir("outer");
  const fs::path inner = dir_.Subdir("outer/inner");
  const fs::path plugin = dir_.CopyIn(plugin_, "p.so", inner);
  EXPECT_TRUE(CheckPluginPermissions(plugin, ::geteuid()).ok());
  fs::permissions(outer, fs::perms::others_write, fs::perm_options::add);
  EXPECT_THAT(CheckPluginPermissions(plugin, ::geteuid()).message(),
              HasSubstr(fs::canonical(outer).string() + " is world-writable"));
  fs::permissions(outer, fs::perms::others_write, fs::perm_options::remove);
  uid_t trusted = ::geteuid();
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(outer.c_str(), 12345, static_cast<gid_t>(-1)), 0);
  } else {
    trusted = ::geteuid() + 1;  // everything of ours above the plugin is now foreign
  }
  absl::Status s = CheckPluginPermissions(plugin, trusted);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is owned by uid "));
  if (::geteuid() == 0) EXPECT_THAT(s.message(), HasSubstr(fs::canonical(outer).string()));
}

TEST_F(PluginSecurityTest, StickyWritableAncestorPassesAndPlainWritableDoesNot) {
  // Like /tmp: anyone may add entries to a sticky directory, but nobody can rename or replace
  // another user's entry, so the path below it stays ours.
  const fs::path shared = dir_.Subdir("shared");
  const fs::path mine = dir_.Subdir("shared/mine");
  const fs::path plugin = dir_.CopyIn(plugin_, "p.so", mine);
  fs::permissions(shared, fs::perms(01777));
  EXPECT_TRUE(CheckPluginPermissions(plugin, ::geteuid()).ok());
  fs::permissions(shared, fs::perms(0777));
  EXPECT_THAT(CheckPluginPermissions(plugin, ::geteuid()).message(),
              HasSubstr(fs::canonical(shared).string() + " is world-writable"));
  // The same for the plugin's own folder: the file below it is checked in turn.
  fs::permissions(shared, fs::perms(0755));
  fs::permissions(mine, fs::perms(01777));
  EXPECT_TRUE(CheckPluginPermissions(plugin, ::geteuid()).ok());
}

TEST_F(PluginSecurityTest, OpenedFileIsTheRegularFileChecked) {
  absl::StatusOr<PluginFile> opened = OpenPluginFile(plugin_, ::geteuid(), true);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->canonical, fs::canonical(plugin_));
  EXPECT_TRUE(S_ISREG(opened->st.st_mode));
  struct stat named;
  ASSERT_EQ(::stat(plugin_.c_str(), &named), 0);
  EXPECT_EQ(opened->st.st_ino, named.st_ino);
  EXPECT_EQ(ProcFdPath(opened->fd.get()), "/proc/self/fd/" + std::to_string(opened->fd.get()));
  // Each descriptor handed out for loading has a number never handed out before.
  absl::StatusOr<ScopedFd> first = FreshDescriptor(opened->fd.get());
  ASSERT_TRUE(first.ok()) << first.status();
  const int first_number = first->get();
  *first = ScopedFd();  // closed: the number is free again, but not fresh
  absl::StatusOr<ScopedFd> second = FreshDescriptor(opened->fd.get());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->get(), first_number);
  // Not a regular file: refused without being opened for reading.
  EXPECT_EQ(OpenPluginFile(dir_.path(), ::geteuid(), true).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Insecure modes pass when the rule is off, the walk still happens.
  fs::permissions(plugin_, fs::perms::others_write, fs::perm_options::add);
  EXPECT_FALSE(OpenPluginFile(plugin_, ::geteuid(), true).ok());
  EXPECT_TRUE(OpenPluginFile(plugin_, ::geteuid(), false).ok());
}

TEST_F(PluginSecurityTest, MissingFileIsNotFound) {
  EXPECT_EQ(CheckPluginPermissions(dir_.path() / "missing.so", ::geteuid()).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ts2coreml::registry
