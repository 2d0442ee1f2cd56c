/// What every CLI command shares: plugin loading, common flags, error reporting.
///
/// A command is a function `int RunX(const std::vector<std::string>& args)` (args after the
/// command name) listed in main.cpp's command table; it returns the exit code of docs/cli.md.
#ifndef TS2COREML_CORE_CLI_CLI_COMMON_H_
#define TS2COREML_CORE_CLI_CLI_COMMON_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// Options every command takes.
struct CommonFlags {
  std::vector<std::filesystem::path> plugin_dirs;
  bool allow_insecure_plugins = false;
  bool quiet = false;
};

/// If args[*i] is a common flag, consumes it (and its value) into `flags` and returns true.
/// A flag missing its value sets `*error`.
bool ParseCommonFlag(const std::vector<std::string>& args, size_t* i, CommonFlags* flags,
                     absl::Status* error);

/// The range a number flag accepts: [lo, hi], or (lo, hi] when `lo_open`; `what` is the hint
/// of the error ("a cosine in (0, 1], e.g. 0.9999").
struct NumberRange {
  double lo;
  double hi;
  bool lo_open;
  absl::string_view what;
};

/// The range of every --min-cosine (convert's search target, verify's tolerance).
inline constexpr NumberRange kCosineRange{0, 1, /*lo_open=*/true,
                                          "a cosine in (0, 1], e.g. 0.9999"};

/// Parses the value `text` of number flag `flag`: finite (never NaN or infinite) and in `range`.
/// Otherwise a usage error, one line: "--min-cosine nan: give a cosine in (0, 1], e.g. 0.9999".
absl::StatusOr<double> ParseNumberFlag(absl::string_view flag, absl::string_view text,
                                       const NumberRange& range);

/// Loads plugins from the built-in folder, TS2COREML_PLUGIN_PATH and --plugin-dir, printing a
/// warning line on stderr for every refused plugin or unusable folder (unless `quiet`).
registry::Registry LoadPlugins(const CommonFlags& flags);

/// Prints "ts2coreml: error: <message>" and returns the status's exit code.
int ReportError(const absl::Status& status);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_CLI_COMMON_H_
