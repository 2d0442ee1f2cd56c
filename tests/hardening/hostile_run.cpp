#include "tests/hardening/hostile_run.h"

#include <sstream>

namespace ts2coreml::hardening {

bool UnderSanitizers() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

plugin_test::RunResult RunHostile(const std::string& program, const std::vector<std::string>& args,
                                  plugin_test::RunOptions options) {
  options.timeout = UnderSanitizers() ? 12 * kTimeLimit : kTimeLimit;
  return plugin_test::RunCommand(program, args, options);
}

::testing::AssertionResult Refused(const plugin_test::RunResult& r, int exit_code,
                                   std::string_view must_name, std::uint64_t model_bytes) {
  const auto fail = [&r]() {
    return ::testing::AssertionFailure() << "\n--- output ---\n" << r.output << "--------------\n";
  };
  if (r.timed_out) return fail() << "killed after " << r.seconds << " s";
  if (r.exit_code != exit_code)
    return fail() << "exit code " << r.exit_code << ", want " << exit_code;
  std::istringstream lines(r.output);
  std::string line, error;
  int errors = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("ts2coreml: error:", 0) != 0) continue;
    ++errors;
    error = line;
  }
  if (errors != 1) return fail() << errors << " 'ts2coreml: error:' lines, want exactly one";
  if (error.find(must_name) == std::string::npos) {
    return fail() << "the error line does not name '" << must_name << "'";
  }
  if (UnderSanitizers()) return ::testing::AssertionSuccess();
  if (r.seconds > static_cast<double>(kTimeLimit.count())) {
    return fail() << "took " << r.seconds << " s, limit " << kTimeLimit.count() << " s";
  }
  const std::uint64_t peak = static_cast<std::uint64_t>(r.peak_rss_kb) * 1024;
  if (peak > kMemoryLimitBytes + model_bytes) {
    return fail() << "peak RSS " << (peak >> 20) << " MB, limit "
                  << ((kMemoryLimitBytes + model_bytes) >> 20) << " MB";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ts2coreml::hardening
