/// Opening input files without trusting them: regular files only, with a size cap, and inside a
/// folder (a package) without following symbolic links.
///
/// A FIFO named as an input would block a plain open() or read() forever, /dev/zero would be read
/// until memory runs out, and a link inside a package (`Data -> /`) would lead out of it. Every
/// reader of user-supplied files opens them through this header:
///
///   absl::StatusOr<RegularFile> f = RegularFile::Open("x.npy", /*max_bytes=*/1 << 30);
///   absl::StatusOr<std::string> manifest =
///       ReadRegularFileBeneath("Net.mlpackage", "Manifest.json", kMaxManifestBytes);
///
/// Errors name the file and what it is instead (`'p' is a FIFO (named pipe), not a regular
/// file`); their codes are NotFound, PermissionDenied, FailedPrecondition (not a regular file, a
/// link, a path leaving its folder), ResourceExhausted (over the cap) and DataLoss (read errors).
#ifndef TS2COREML_CORE_BASE_SAFE_FILE_H_
#define TS2COREML_CORE_BASE_SAFE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ts2coreml::core {

/// No cap on the file size.
inline constexpr uint64_t kNoSizeLimit = std::numeric_limits<uint64_t>::max();

/// An open regular file (read-only) and its size at the time it was opened. Move-only; closes
/// the descriptor when destroyed. Reads are positional, so const reads may run concurrently.
class RegularFile {
 public:
  /// Opens `path`, following links (the user named it), if it is a regular file of at most
  /// `max_bytes` bytes. Nothing else is opened: FIFOs, devices, sockets and folders are refused
  /// from their stat() before any open() that could block or have side effects.
  static absl::StatusOr<RegularFile> Open(const std::filesystem::path& path,
                                          uint64_t max_bytes = kNoSizeLimit);

  /// Opens `relative` inside the folder `root` component by component, following no symbolic
  /// link below `root` (root itself may be one) and refusing `..`, `.`, empty and absolute
  /// components; the file must be regular and at most `max_bytes` bytes.
  static absl::StatusOr<RegularFile> OpenBeneath(const std::filesystem::path& root,
                                                 const std::filesystem::path& relative,
                                                 uint64_t max_bytes = kNoSizeLimit);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  /// Reads exactly `bytes` bytes at `offset`; an error when the range passes the size at open
  /// time or the file got shorter since.
  absl::Status ReadAt(uint64_t offset, void* out, size_t bytes) const;
  /// The whole file as opened (size() bytes).
  absl::StatusOr<std::string> ReadAll() const;

  /// The path as given (for messages).
  const std::filesystem::path& path() const { return path_; }
  /// The size in bytes when opened.
  uint64_t size() const { return size_; }
  /// The descriptor (owned by this object).
  int fd() const { return fd_; }

 private:
  RegularFile(int fd, std::filesystem::path path, uint64_t size);

  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t size_ = 0;
};

/// RegularFile::Open(path, max_bytes)->ReadAll().
absl::StatusOr<std::string> ReadRegularFile(const std::filesystem::path& path,
                                            uint64_t max_bytes = kNoSizeLimit);

/// RegularFile::OpenBeneath(root, relative, max_bytes)->ReadAll().
absl::StatusOr<std::string> ReadRegularFileBeneath(const std::filesystem::path& root,
                                                   const std::filesystem::path& relative,
                                                   uint64_t max_bytes = kNoSizeLimit);

/// "a folder", "a FIFO (named pipe)", "a character device", ... for a stat() mode.
std::string FileTypeName(unsigned int mode);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_SAFE_FILE_H_
