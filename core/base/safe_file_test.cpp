#include "core/base/safe_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;

class SafeFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "safe_file_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const fs::path& relative, const std::string& bytes) {
    const fs::path p = dir_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  fs::path dir_;
};

// Every refusal is immediate: none of these may block on a FIFO or read an endless device.
void ExpectRefused(const absl::Status& s, absl::StatusCode code, const std::string& fragment) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s;
}

TEST_F(SafeFileTest, ReadsARegularFile) {
  const fs::path p = Write("a.bin", std::string("x\0y", 3));
  absl::StatusOr<std::string> data = ReadRegularFile(p);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, std::string("x\0y", 3));
  absl::StatusOr<RegularFile> f = RegularFile::Open(p);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->size(), 3u);
  char c = 0;
  ASSERT_TRUE(f->ReadAt(2, &c, 1).ok());
  EXPECT_EQ(c, 'y');
  ExpectRefused(f->ReadAt(2, &c, 2), absl::StatusCode::kOutOfRange, "past the end");
  ExpectRefused(f->ReadAt(~uint64_t{0}, &c, 1), absl::StatusCode::kOutOfRange, "past the end");
}

TEST_F(SafeFileTest, RefusesWhatIsNotARegularFile) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  ExpectRefused(ReadRegularFile(fifo).status(), absl::StatusCode::kFailedPrecondition,
                "is a FIFO (named pipe), not a regular file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ExpectRefused(ReadRegularFile("/dev/zero").status(), absl::StatusCode::kFailedPrecondition,
                "'/dev/zero' is a character device, not a regular file");
  ExpectRefused(ReadRegularFile(dir_).status(), absl::StatusCode::kFailedPrecondition,
                "is a folder, not a regular file");
  ExpectRefused(ReadRegularFile(dir_ / "missing").status(), absl::StatusCode::kNotFound,
                "no such file");
  // A link the user names is followed, and what it leads to must still be a regular file.
  fs::create_symlink("/dev/zero", dir_ / "zero.npy");
  ExpectRefused(ReadRegularFile(dir_ / "zero.npy").status(), absl::StatusCode::kFailedPrecondition,
                "character device");
  fs::create_symlink(Write("real", "abc"), dir_ / "link");
  EXPECT_EQ(ReadRegularFile(dir_ / "link").value_or(""), "abc");
}

TEST_F(SafeFileTest, RefusesASocket) {
  const fs::path sock = dir_ / "s";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.string().size(), sizeof addr.sun_path);
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ExpectRefused(ReadRegularFile(sock).status(), absl::StatusCode::kFailedPrecondition, "socket");
  ::close(fd);
}

TEST_F(SafeFileTest, CapsTheSize) {
  const fs::path p = Write("big", std::string(100, 'a'));
  EXPECT_TRUE(ReadRegularFile(p, 100).ok());
  ExpectRefused(ReadRegularFile(p, 99).status(), absl::StatusCode::kResourceExhausted,
                "is 100 bytes, more than the 99");
  ExpectRefused(ReadRegularFileBeneath(dir_, "big", 10).status(),
                absl::StatusCode::kResourceExhausted, "more than the 10");
}

TEST_F(SafeFileTest, OpensBeneathAFolder) {
  Write("pkg/Data/m/model.bin", "model");
  absl::StatusOr<std::string> data = ReadRegularFileBeneath(dir_ / "pkg", "Data/m/model.bin");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, "model");
  absl::StatusOr<RegularFile> f = RegularFile::OpenBeneath(dir_ / "pkg", "Data/m/model.bin");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->path(), dir_ / "pkg/Data/m/model.bin");
  // The root itself may be a link: the user named it.
  fs::create_directory_symlink(dir_ / "pkg", dir_ / "pkg_link");
  EXPECT_EQ(ReadRegularFileBeneath(dir_ / "pkg_link", "Data/m/model.bin").value_or(""), "model");
}

TEST_F(SafeFileTest, FollowsNoLinkBeneathAFolder) {
  Write("outside/secret", "secret");
  Write("pkg/Manifest.json", "{}");
  fs::create_directory_symlink(dir_ / "outside", dir_ / "pkg/Data");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "Data/secret").status(),
                absl::StatusCode::kFailedPrecondition, "pkg/Data' is a symbolic link");
  fs::create_symlink(dir_ / "outside/secret", dir_ / "pkg/file");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "file").status(),
                absl::StatusCode::kFailedPrecondition, "pkg/file' is a symbolic link");
  fs::create_symlink("Manifest.json", dir_ / "pkg/relative_link");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "relative_link").status(),
                absl::StatusCode::kFailedPrecondition, "symbolic link");
  fs::create_symlink("/dev/zero", dir_ / "pkg/zero");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "zero").status(),
                absl::StatusCode::kFailedPrecondition, "symbolic link");
}

TEST_F(SafeFileTest, RefusesPathsLeavingTheFolder) {
  Write("pkg/a", "a");
  Write("secret", "s");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "../secret").status(),
                absl::StatusCode::kFailedPrecondition, "'..'");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "./a").status(),
                absl::StatusCode::kFailedPrecondition, "'.'");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", dir_ / "secret").status(),
                absl::StatusCode::kFailedPrecondition, "absolute path");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "").status(),
                absl::StatusCode::kFailedPrecondition, "empty path");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "a/b").status(),
                absl::StatusCode::kFailedPrecondition, "not a folder");
  ExpectRefused(ReadRegularFileBeneath(dir_ / "pkg", "missing/b").status(),
                absl::StatusCode::kNotFound, "pkg/missing': no such file");
}

TEST_F(SafeFileTest, RefusesAFifoBeneathAFolder) {
  fs::create_directories(dir_ / "pkg/weights");
  ASSERT_EQ(::mkfifo((dir_ / "pkg/weights/weight.bin").c_str(), 0600), 0);
  ExpectRefused(RegularFile::OpenBeneath(dir_ / "pkg", "weights/weight.bin").status(),
                absl::StatusCode::kFailedPrecondition, "is a FIFO (named pipe)");
}

TEST_F(SafeFileTest, MovesOwnership) {
  const fs::path p = Write("m", "abc");
  absl::StatusOr<RegularFile> f = RegularFile::Open(p);
  ASSERT_TRUE(f.ok());
  const int fd = f->fd();
  RegularFile moved = *std::move(f);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(moved.ReadAll().value_or(""), "abc");
}

}  // namespace
}  // namespace ts2coreml::core
