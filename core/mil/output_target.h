/// Where a package may be written, and how a finished package takes its place.
///
///   if (absl::Status s = CheckOutputTarget(out, force, {model}); !s.ok()) return s;
///   RemoveStaleTemporaries(out);
///   const fs::path temp = TemporarySibling(out, ::getpid());
///   ... write and validate the package in temp ...
///   absl::Status s = MoveIntoPlace(temp, out, SwapMethod::kExchange);
///
/// Only an ML package (a folder holding Manifest.json) is ever replaced, and it is replaced in one
/// step: renameat2(RENAME_EXCHANGE) swaps the new folder with the old one, so `out` always holds
/// one whole package, the old or the new, whenever the process is killed.
#ifndef TS2COREML_CORE_MIL_OUTPUT_TARGET_H_
#define TS2COREML_CORE_MIL_OUTPUT_TARGET_H_

#include <sys/types.h>

#include <filesystem>
#include <vector>

#include "absl/status/status.h"

namespace ts2coreml::mil {

/// The extension every package written by ts2coreml carries.
inline constexpr char kPackageExtension[] = ".mlpackage";

/// True when `path` is an ML package: a folder (not a symlink) holding a regular Manifest.json.
bool IsMlPackage(const std::filesystem::path& path);

/// Checks what can be checked before anything is written. `out` must be named `*.mlpackage`
/// (InvalidArgument), must not be one of `inputs`, lie inside one or contain one
/// (FailedPrecondition). An existing `out` is AlreadyExists without `force`; with `force` it must
/// be an ML package (FailedPrecondition otherwise).
absl::Status CheckOutputTarget(const std::filesystem::path& out, bool force,
                               const std::vector<std::filesystem::path>& inputs);

/// The temporary sibling process `pid` writes `target` into: `.NAME.tmp-PID`.
std::filesystem::path TemporarySibling(const std::filesystem::path& target, pid_t pid);

/// Removes the `.NAME.tmp-PID` siblings of `target` (exactly that pattern) whose process no
/// longer runs, left by a killed conversion. Returns how many were removed.
int RemoveStaleTemporaries(const std::filesystem::path& target);

/// How MoveIntoPlace replaces an existing package.
enum class SwapMethod {
  /// One renameat2(RENAME_EXCHANGE); falls back to kTwoRenames where the filesystem refuses it.
  kExchange,
  /// Old package to `.NAME.old-PID`, new one into place, old one removed (restored on failure).
  /// Not atomic: a kill between the renames leaves the old package in `.NAME.old-PID`.
  kTwoRenames,
};

/// Moves the finished package `temp` to `target`. A missing `target` is created with
/// renameat2(RENAME_NOREPLACE), so a folder that appeared meanwhile is never merged into; an
/// existing one must be an ML package and is replaced with `method`. On success `temp` is gone;
/// on failure `target` is as it was and `temp` is left for the caller to remove.
absl::Status MoveIntoPlace(const std::filesystem::path& temp, const std::filesystem::path& target,
                           SwapMethod method);

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_OUTPUT_TARGET_H_
