/// Helpers of the plugin end-to-end tests: running a program (in a given directory, optionally as
/// an unprivileged user), private temporary directories, and reading packages back.
#ifndef TS2COREML_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_
#define TS2COREML_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::plugin_test {

/// The unprivileged user the permission tests run the CLI as when the tests run as root.
inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

struct RunResult {
  int exit_code = -1;
  std::string output;      ///< stdout and stderr, interleaved
  bool timed_out = false;  ///< killed (exit_code 128 + SIGKILL) after RunOptions::timeout
  double seconds = 0;      ///< wall-clock time until the child exited
  long peak_rss_kb = 0;    ///< the child's peak resident set size (wait4's ru_maxrss)
};

struct RunOptions {
  std::filesystem::path cwd;     ///< empty: the test's own working directory
  std::optional<uid_t> uid;      ///< drop to this uid (and kNobodyGid, no supplementary groups)
  std::vector<std::string> env;  ///< extra "NAME=value" entries
  /// Zero: wait as long as it takes. Otherwise the child runs in a process group of its own that
  /// is killed (SIGKILL) when this much wall-clock time has passed.
  std::chrono::milliseconds timeout{0};
};

/// Runs `program` with `args` (no shell). When `options.uid` is set the child drops its
/// privileges before exec; if it cannot, the child exits with 126 and says why.
RunResult RunCommand(const std::string& program, const std::vector<std::string>& args,
                     const RunOptions& options = {});

/// A fresh directory under /tmp, mode 0755, removed with its contents when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  /// A subdirectory with the given mode, created if missing.
  std::filesystem::path Subdir(const std::string& name, unsigned mode = 0755) const;

 private:
  std::filesystem::path path_;
};

/// Copies `file` into `dir` (keeping its name unless `name` is given) with `mode`; returns it.
std::filesystem::path CopyInto(const std::filesystem::path& file, const std::filesystem::path& dir,
                               unsigned mode = 0755, const std::string& name = "");

/// The MIL op types of the package's main block in order, consts left out; empty on failure
/// (with a test failure recorded).
std::vector<std::string> MainOpTypes(const std::filesystem::path& package);

}  // namespace ts2coreml::plugin_test

#endif  // TS2COREML_TESTS_PLUGINS_PLUGIN_TEST_UTIL_H_
