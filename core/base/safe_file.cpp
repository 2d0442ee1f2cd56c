#include "core/base/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;

std::string Quoted(const fs::path& p) { return absl::StrCat("'", p.string(), "'"); }

/// Closes a descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

/// The error for a failed open()/stat() of `path`.
absl::Status OpenError(const fs::path& path, int err) {
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(Quoted(path), ": no such file"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(
          absl::StrCat(Quoted(path), " cannot be opened: permission denied"));
    case ENOTDIR:
      return absl::FailedPreconditionError(
          absl::StrCat(Quoted(path), ": a component of the path is not a folder"));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(Quoted(path), " cannot be opened: ", std::strerror(err)));
  }
}

absl::Status NotRegular(const fs::path& path, mode_t mode) {
  return absl::FailedPreconditionError(
      absl::StrCat(Quoted(path), " is ", FileTypeName(mode), ", not a regular file"));
}

absl::Status TooLarge(const fs::path& path, uint64_t size, uint64_t max_bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(Quoted(path), " is ", size,
                                                   " bytes, more than the ", max_bytes,
                                                   " bytes such a file may have"));
}

/// Checks an opened descriptor: the same regular file `before` described, within the cap, and
/// back in blocking mode.
absl::StatusOr<uint64_t> CheckOpened(int fd, const fs::path& path, const struct stat& before,
                                     uint64_t max_bytes) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return OpenError(path, errno);
  if (!S_ISREG(st.st_mode)) return NotRegular(path, st.st_mode);
  if (st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
    return absl::FailedPreconditionError(
        absl::StrCat(Quoted(path), " was replaced while being opened; try again"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) return TooLarge(path, size, max_bytes);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return OpenError(path, errno);
  return size;
}

/// Splits `relative` into plain names; refuses absolute paths, "..", "." and empty names.
absl::StatusOr<std::vector<std::string>> PlainComponents(const fs::path& root,
                                                         const fs::path& relative) {
  std::vector<std::string> parts;
  if (relative.is_absolute() || relative.has_root_name()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Quoted(relative), " is an absolute path; a path inside ", Quoted(root), " was expected"));
  }
  for (const fs::path& part : relative) {
    const std::string name = part.string();
    if (name.empty()) continue;  // a trailing separator
    if (name == ".." || name == ".") {
      return absl::FailedPreconditionError(absl::StrCat(Quoted(root / relative), ": '", name,
                                                        "' in a path inside ", Quoted(root),
                                                        " is not allowed"));
    }
    parts.push_back(name);
  }
  if (parts.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("an empty path inside ", Quoted(root), " was given"));
  }
  return parts;
}

/// Opens the folder `name` inside `dir_fd` without following a link.
absl::StatusOr<int> OpenSubfolder(int dir_fd, const std::string& name, const fs::path& shown) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return OpenError(shown, errno);
  }
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Quoted(shown), " is a symbolic link; links inside a package are not followed"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Quoted(shown), " is ", FileTypeName(st.st_mode), ", not a folder"));
  }
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return OpenError(shown, errno);
  return fd;
}

}  // namespace

std::string FileTypeName(unsigned int mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a special file";
}

RegularFile::RegularFile(int fd, fs::path path, uint64_t size)
    : fd_(fd), path_(std::move(path)), size_(size) {}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<RegularFile> RegularFile::Open(const fs::path& path, uint64_t max_bytes) {
  struct stat before;
  if (::stat(path.c_str(), &before) != 0) return OpenError(path, errno);
  if (!S_ISREG(before.st_mode)) return NotRegular(path, before.st_mode);
  if (static_cast<uint64_t>(before.st_size) > max_bytes) {
    return TooLarge(path, static_cast<uint64_t>(before.st_size), max_bytes);
  }
  // O_NONBLOCK: should the file have become a FIFO since the stat(), open() does not wait.
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(path, errno);
  absl::StatusOr<uint64_t> size = CheckOpened(fd.get(), path, before, max_bytes);
  if (!size.ok()) return size.status();
  return RegularFile(fd.release(), path, *size);
}

absl::StatusOr<RegularFile> RegularFile::OpenBeneath(const fs::path& root, const fs::path& relative,
                                                     uint64_t max_bytes) {
  absl::StatusOr<std::vector<std::string>> parts = PlainComponents(root, relative);
  if (!parts.ok()) return parts.status();
  FdGuard dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return OpenError(root, errno);
  fs::path shown = root;
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    shown /= (*parts)[i];
    absl::StatusOr<int> sub = OpenSubfolder(dir.get(), (*parts)[i], shown);
    if (!sub.ok()) return sub.status();
    dir.reset(*sub);
  }
  shown /= parts->back();
  const char* name = parts->back().c_str();
  struct stat before;
  if (::fstatat(dir.get(), name, &before, AT_SYMLINK_NOFOLLOW) != 0) return OpenError(shown, errno);
  if (S_ISLNK(before.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Quoted(shown), " is a symbolic link; links inside a package are not followed"));
  }
  if (!S_ISREG(before.st_mode)) return NotRegular(shown, before.st_mode);
  if (static_cast<uint64_t>(before.st_size) > max_bytes) {
    return TooLarge(shown, static_cast<uint64_t>(before.st_size), max_bytes);
  }
  FdGuard fd(::openat(dir.get(), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(shown, errno);
  absl::StatusOr<uint64_t> size = CheckOpened(fd.get(), shown, before, max_bytes);
  if (!size.ok()) return size.status();
  return RegularFile(fd.release(), shown, *size);
}

absl::Status RegularFile::ReadAt(uint64_t offset, void* out, size_t bytes) const {
  if (offset > size_ || bytes > size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat("reading ", bytes, " bytes at offset ", offset,
                                              " goes past the end of ", Quoted(path_), " (", size_,
                                              " bytes)"));
  }
  char* p = static_cast<char*>(out);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd_, p + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::DataLossError(absl::StrCat("cannot read ", Quoted(path_), " at offset ",
                                              offset + done, ": ", std::strerror(errno)));
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(Quoted(path_), " ends at ", offset + done,
                                              " bytes: it got shorter while being read"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RegularFile::ReadAll() const {
  if (size_ > std::numeric_limits<size_t>::max() / 2) return TooLarge(path_, size_, kNoSizeLimit);
  std::string data(static_cast<size_t>(size_), '\0');
  if (absl::Status s = ReadAt(0, data.data(), data.size()); !s.ok()) return s;
  return data;
}

absl::StatusOr<std::string> ReadRegularFile(const fs::path& path, uint64_t max_bytes) {
  absl::StatusOr<RegularFile> file = RegularFile::Open(path, max_bytes);
  if (!file.ok()) return file.status();
  return file->ReadAll();
}

absl::StatusOr<std::string> ReadRegularFileBeneath(const fs::path& root, const fs::path& relative,
                                                   uint64_t max_bytes) {
  absl::StatusOr<RegularFile> file = RegularFile::OpenBeneath(root, relative, max_bytes);
  if (!file.ok()) return file.status();
  return file->ReadAll();
}

}  // namespace ts2coreml::core
