/// Runs the CLI on hostile input under the limits every refusal must keep: a documented exit
/// code, one error line naming what is wrong, within 10 s and under 300 MB beyond the model.
///
///   HostileResult r = RunHostile(TS2COREML_CLI, {"convert", bad.string(), "-o", out.string()});
///   EXPECT_TRUE(Refused(r, 4, bad.filename().string()));
#ifndef TS2COREML_TESTS_HARDENING_HOSTILE_RUN_H_
#define TS2COREML_TESTS_HARDENING_HOSTILE_RUN_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::hardening {

/// Wall-clock time a refusal may take in a plain build.
inline constexpr std::chrono::seconds kTimeLimit{10};
/// Peak memory a refusal may use beyond the size of the model it was given, in a plain build.
inline constexpr std::uint64_t kMemoryLimitBytes = 300ull << 20;

/// True in AddressSanitizer builds, where only outcomes are checked, not time or memory.
bool UnderSanitizers();

/// Runs `program` with `args` and a kill timer: kTimeLimit in a plain build, several times that
/// under sanitizers (a hang still fails, slowness does not).
plugin_test::RunResult RunHostile(const std::string& program, const std::vector<std::string>& args,
                                  plugin_test::RunOptions options = {});

/// Success when `r` ended with `exit_code`, was not killed, printed exactly one
/// `ts2coreml: error:` line and that line contains `must_name`; in a plain build also within
/// kTimeLimit and with a peak RSS under kMemoryLimitBytes + `model_bytes`.
::testing::AssertionResult Refused(const plugin_test::RunResult& r, int exit_code,
                                   std::string_view must_name, std::uint64_t model_bytes = 0);

}  // namespace ts2coreml::hardening

#endif  // TS2COREML_TESTS_HARDENING_HOSTILE_RUN_H_
