#include "core/mil/output_target.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(absl::string_view what, const fs::path& path, int err) {
  return absl::InternalError(absl::StrCat(what, " '", path.string(), "': ", std::strerror(err)));
}

/// `p` without a trailing separator ("Net.mlpackage/" names "Net.mlpackage").
fs::path WithoutTrailingSlash(const fs::path& p) {
  return p.has_filename() || !p.has_parent_path() ? p : p.parent_path();
}

/// `p` absolute, with symlinks of its existing part resolved.
fs::path Resolved(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(WithoutTrailingSlash(p), ec);
  if (ec) return p.lexically_normal();
  fs::path resolved = fs::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal() : resolved;
}

/// True when `inner` is `outer` or lies inside it (both resolved).
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}

absl::Status NotAPackage(const fs::path& out) {
  return absl::FailedPreconditionError(absl::StrCat(
      out.string(),
      ": exists and is not an ML package (a folder with Manifest.json), so --force does not replace it; remove it yourself or choose another -o"));
}

absl::Status CheckAgainstInput(const fs::path& out, const fs::path& input) {
  const fs::path o = Resolved(out);
  const fs::path in = Resolved(input);
  if (o == in) {
    return absl::FailedPreconditionError(
        absl::StrCat(out.string(), ": the output is the input model itself; choose another -o"));
  }
  if (IsWithin(o, in)) {
    return absl::FailedPreconditionError(absl::StrCat(out.string(),
                                                      ": the output lies inside the input ",
                                                      input.string(), "; choose another -o"));
  }
  if (IsWithin(in, o)) {
    return absl::FailedPreconditionError(
        absl::StrCat(out.string(), ": the output contains the input model ", input.string(),
                     ", which replacing it would delete; choose another -o"));
  }
  return absl::OkStatus();
}

/// errno values with which renameat2 says the filesystem (or kernel) lacks the flag.
bool FlagUnsupported(int err) { return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP; }

absl::Status RenameNoReplace(const fs::path& temp, const fs::path& target) {
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  if (errno == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", target.string(), "' appeared while the package was written; run again to replace it"));
  }
  if (!FlagUnsupported(errno)) {
    return ErrnoError("cannot move the new package into place at", target, errno);
  }
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", target.string(), "' appeared while the package was written; run again to replace it"));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    return ErrnoError("cannot move the new package into place at", target, errno);
  }
  return absl::OkStatus();
}

absl::Status TwoRenames(const fs::path& temp, const fs::path& target) {
  const fs::path old =
      target.parent_path() / absl::StrCat(".", target.filename().string(), ".old-", ::getpid());
  std::error_code ec;
  fs::remove_all(old, ec);
  if (::rename(target.c_str(), old.c_str()) != 0) {
    return ErrnoError("cannot move the existing output aside:", target, errno);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::rename(old.c_str(), target.c_str());
    return ErrnoError("cannot move the new package into place at", target, err);
  }
  fs::remove_all(old, ec);  // the new package is in place; a leftover old copy is harmless
  return absl::OkStatus();
}

/// The PID in `name` when it is exactly `prefix` followed by decimal digits.
bool ParseTemporaryName(absl::string_view name, absl::string_view prefix, pid_t* pid) {
  if (!absl::StartsWith(name, prefix)) return false;
  const absl::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 9) return false;
  if (!std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) return false;
  int value = 0;
  if (!absl::SimpleAtoi(digits, &value) || value <= 0) return false;
  *pid = static_cast<pid_t>(value);
  return true;
}

}  // namespace

bool IsMlPackage(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  return ::lstat((path / "Manifest.json").c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status CheckOutputTarget(const fs::path& out_path, bool force,
                               const std::vector<fs::path>& inputs) {
  const fs::path out = WithoutTrailingSlash(out_path);
  if (out.extension() != kPackageExtension || out.stem().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        out_path.string(),
        ": the output must be a Core ML package folder named NAME.mlpackage; add the .mlpackage extension to -o"));
  }
  for (const fs::path& input : inputs) {
    if (absl::Status s = CheckAgainstInput(out, input); !s.ok()) return s;
  }
  struct stat st;
  if (::lstat(out.c_str(), &st) != 0) return absl::OkStatus();
  if (!force) {
    return absl::AlreadyExistsError(
        absl::StrCat("'", out.string(), "' already exists; use --force to replace it"));
  }
  if (!IsMlPackage(out)) return NotAPackage(out);
  return absl::OkStatus();
}

fs::path TemporarySibling(const fs::path& target, pid_t pid) {
  return target.parent_path() / absl::StrCat(".", target.filename().string(), ".tmp-", pid);
}

int RemoveStaleTemporaries(const fs::path& target) {
  const std::string prefix = absl::StrCat(".", target.filename().string(), ".tmp-");
  fs::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    pid_t pid = 0;
    if (!ParseTemporaryName(it->path().filename().string(), prefix, &pid)) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code remove_ec;
    if (fs::remove_all(it->path(), remove_ec) > 0 && !remove_ec) ++removed;
  }
  return removed;
}

absl::Status MoveIntoPlace(const fs::path& temp, const fs::path& target, SwapMethod method) {
  struct stat st;
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoError("cannot inspect the output", target, errno);
    return RenameNoReplace(temp, target);
  }
  if (!IsMlPackage(target)) return NotAPackage(target);
  if (method == SwapMethod::kExchange) {
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
      std::error_code ec;
      fs::remove_all(temp, ec);  // `temp` now holds the old package
      return absl::OkStatus();
    }
    if (!FlagUnsupported(errno)) {
      return ErrnoError("cannot swap the new package into place at", target, errno);
    }
  }
  return TwoRenames(temp, target);
}

}  // namespace ts2coreml::mil
