#include "core/mil/output_target.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/mil/test_dir.h"
#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;

fs::path TestDir() { return test::TestDir("mil_output_target_"); }
using test::ReadText;

/// A minimal ML package at `dir` whose Manifest.json holds `tag`.
void MakePackage(const fs::path& dir, const std::string& tag) {
  fs::create_directories(dir / "Data");
  std::ofstream(dir / "Manifest.json") << tag;
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// The PID of a process that has exited and been reaped.
pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(OutputTargetTest, IsMlPackageNeedsAFolderWithManifest) {
  const fs::path dir = TestDir();
  MakePackage(dir / "a.mlpackage", "{}");
  fs::create_directory(dir / "empty.mlpackage");
  std::ofstream(dir / "file.mlpackage") << "x";
  fs::create_directory_symlink(dir / "a.mlpackage", dir / "link.mlpackage");
  EXPECT_TRUE(IsMlPackage(dir / "a.mlpackage"));
  EXPECT_FALSE(IsMlPackage(dir / "empty.mlpackage"));
  EXPECT_FALSE(IsMlPackage(dir / "file.mlpackage"));
  EXPECT_FALSE(IsMlPackage(dir / "link.mlpackage"));
  EXPECT_FALSE(IsMlPackage(dir / "missing.mlpackage"));
}

TEST(OutputTargetTest, CheckRefusesWhatMustNotBeWrittenOrReplaced) {
  const fs::path dir = TestDir();
  const fs::path model = dir / "m.pt";
  std::ofstream(model) << "model";
  MakePackage(dir / "old.mlpackage", "{}");
  fs::create_directory(dir / "plain.mlpackage");
  EXPECT_TRUE(CheckOutputTarget(dir / "new.mlpackage", false, {model}).ok());
  EXPECT_TRUE(CheckOutputTarget(dir / "old.mlpackage", true, {model}).ok());
  EXPECT_TRUE(CheckOutputTarget(dir / "old.mlpackage/", true, {model}).ok());

  const absl::Status ext = CheckOutputTarget(dir / "x.mlmodel", false, {model});
  EXPECT_EQ(ext.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ext.message().find("x.mlmodel"), absl::string_view::npos) << ext;
  EXPECT_EQ(CheckOutputTarget(model, true, {model}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckOutputTarget(dir / ".mlpackage", false, {}).code(),
            absl::StatusCode::kInvalidArgument);

  const absl::Status exists = CheckOutputTarget(dir / "old.mlpackage", false, {model});
  EXPECT_EQ(exists.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(exists.message().find("--force"), absl::string_view::npos);
  const absl::Status plain = CheckOutputTarget(dir / "plain.mlpackage", true, {model});
  EXPECT_EQ(plain.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(plain.message().find("not an ML package"), absl::string_view::npos) << plain;

  // The input itself (named like a package), inside it, or inside the output.
  const fs::path pkg_model = dir / "model.mlpackage";
  std::ofstream(pkg_model) << "model";
  EXPECT_NE(CheckOutputTarget(pkg_model, true, {pkg_model}).message().find("input model itself"),
            absl::string_view::npos);
  EXPECT_NE(CheckOutputTarget(dir / "." / "model.mlpackage", true, {pkg_model})
                .message()
                .find("input model itself"),
            absl::string_view::npos);
  EXPECT_NE(
      CheckOutputTarget(pkg_model / "x.mlpackage", true, {pkg_model}).message().find("inside"),
      absl::string_view::npos);
  std::ofstream(dir / "old.mlpackage" / "m.pt") << "model";
  EXPECT_NE(CheckOutputTarget(dir / "old.mlpackage", true, {dir / "old.mlpackage" / "m.pt"})
                .message()
                .find("contains the input model"),
            absl::string_view::npos);
  EXPECT_EQ(ReadText(model), "model");
}

TEST(OutputTargetTest, ExchangeReplacesAPackageInOneStep) {
  for (SwapMethod method : {SwapMethod::kExchange, SwapMethod::kTwoRenames}) {
    SCOPED_TRACE(method == SwapMethod::kExchange ? "exchange" : "two renames");
    const fs::path dir = TestDir();
    const fs::path target = dir / "Net.mlpackage";
    const fs::path temp = TemporarySibling(target, ::getpid());
    MakePackage(target, "old");
    MakePackage(temp, "new");
    ASSERT_TRUE(MoveIntoPlace(temp, target, method).ok());
    EXPECT_EQ(ReadText(target / "Manifest.json"), "new");
    EXPECT_EQ(Names(dir), std::vector<std::string>{"Net.mlpackage"});
  }
}

TEST(OutputTargetTest, MoveIntoPlaceRefusesWhatIsNotAPackage) {
  for (SwapMethod method : {SwapMethod::kExchange, SwapMethod::kTwoRenames}) {
    const fs::path dir = TestDir();
    const fs::path target = dir / "Net.mlpackage";
    const fs::path temp = TemporarySibling(target, ::getpid());
    MakePackage(temp, "new");
    std::ofstream(target) << "precious";
    const absl::Status s = MoveIntoPlace(temp, target, method);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(ReadText(target), "precious");
    EXPECT_EQ(ReadText(temp / "Manifest.json"), "new");
  }
}

TEST(OutputTargetTest, MoveIntoPlaceCreatesAMissingTarget) {
  const fs::path dir = TestDir();
  const fs::path target = dir / "Net.mlpackage";
  const fs::path temp = TemporarySibling(target, ::getpid());
  MakePackage(temp, "new");
  ASSERT_TRUE(MoveIntoPlace(temp, target, SwapMethod::kExchange).ok());
  EXPECT_EQ(ReadText(target / "Manifest.json"), "new");
  EXPECT_EQ(Names(dir), std::vector<std::string>{"Net.mlpackage"});
}

TEST(OutputTargetTest, StaleTemporariesOfDeadProcessesAreRemovedAndNothingElse) {
  const fs::path dir = TestDir();
  const fs::path target = dir / "Net.mlpackage";
  const pid_t dead = DeadPid();
  MakePackage(TemporarySibling(target, dead), "stale");
  MakePackage(TemporarySibling(target, ::getpid()), "mine");            // this process
  MakePackage(TemporarySibling(target, ::getppid()), "alive");          // a live process
  MakePackage(TemporarySibling(dir / "Other.mlpackage", dead), "x");    // another output's
  MakePackage(dir / absl::StrCat(".Net.mlpackage.old-", dead), "old");  // maybe the only copy
  std::ofstream(dir / absl::StrCat(".Net.mlpackage.tmp-", dead, "x")) << "not ours";
  std::ofstream(dir / ".Net.mlpackage.tmp-") << "not ours";
  std::ofstream(dir / ".Net.mlpackage.tmp--1") << "not ours";
  const std::vector<std::string> before = Names(dir);
  EXPECT_EQ(RemoveStaleTemporaries(target), 1);
  std::vector<std::string> expected;
  for (const std::string& n : before) {
    if (n != TemporarySibling(target, dead).filename().string()) expected.push_back(n);
  }
  EXPECT_EQ(Names(dir), expected);
}

}  // namespace
}  // namespace ts2coreml::mil
