/// Runs the ts2coreml CLI as a child process and captures what it prints.
#ifndef TS2COREML_TESTS_E2E_CLI_RUNNER_H_
#define TS2COREML_TESTS_E2E_CLI_RUNNER_H_

#include <filesystem>
#include <string>
#include <vector>

namespace ts2coreml::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr, interleaved
};

/// Runs `program` with `args` (no shell), with extra `env` entries ("NAME=value").
CliResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {});

/// A fresh temporary directory, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// The names of the entries directly in `dir`, sorted.
std::vector<std::string> Entries(const std::filesystem::path& dir);

/// Every file below `root` with its bytes, keyed by relative path.
std::vector<std::pair<std::string, std::string>> ReadTree(const std::filesystem::path& root);

}  // namespace ts2coreml::testing

#endif  // TS2COREML_TESTS_E2E_CLI_RUNNER_H_
