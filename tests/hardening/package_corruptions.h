/// Broken .mlpackage trees for the hardening tests and the fuzzer's seed corpus: a small valid
/// package and a list of named corruptions, each with a fragment the reader's error must contain.
///
///   WriteValidPackage(dir / "ok.mlpackage");
///   for (const PackageCorruption& c : PackageCorruptions()) {
///     WriteValidPackage(dir / c.name);
///     ASSERT_TRUE(c.apply(dir / c.name).ok());
///   }
#ifndef TS2COREML_TESTS_HARDENING_PACKAGE_CORRUPTIONS_H_
#define TS2COREML_TESTS_HARDENING_PACKAGE_CORRUPTIONS_H_

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ts2coreml::testing {

/// Writes a valid package (x: fp32[1,3] -> linear with an fp16 weight blob and an fp32 bias blob
/// -> relu -> out) into `dir`, which must not exist.
absl::Status WriteValidPackage(const std::filesystem::path& dir);

struct PackageCorruption {
  std::string name;
  /// Breaks the package at the given root in place.
  std::function<absl::Status(const std::filesystem::path&)> apply;
  /// A fragment of the error ReadPackage or ValidatePackage must report.
  std::string expected_error;
};

/// Every corruption: missing or malformed manifest entries, a missing or garbled model file,
/// truncated or missing weight.bin, blob offsets past the end or unaligned, a wrong sentinel, a
/// wrong blob data type, an op reading an undefined var, an undefined block output, ...
const std::vector<PackageCorruption>& PackageCorruptions();

}  // namespace ts2coreml::testing

#endif  // TS2COREML_TESTS_HARDENING_PACKAGE_CORRUPTIONS_H_
