#include "tests/e2e/cli_runner.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::testing {

CliResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::vector<std::string>& env) {
  plugin_test::RunOptions options;
  options.env = env;
  plugin_test::RunResult r = plugin_test::RunCommand(program, args, options);
  return {r.exit_code, std::move(r.output)};
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ts2coreml-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> Entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::pair<std::string, std::string>> ReadTree(const std::filesystem::path& root) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace_back(std::filesystem::relative(entry.path(), root).string(), ss.str());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace ts2coreml::testing
