/// The ts2coreml CLI on hostile input, through RunHostile/Refused (hostile_run.h): a kill timer,
/// peak RSS, one error line. Adds what the output and scale cases need: a file-size limit for the
/// child and the success check under the same limits.
///
///   HostileResult r = RunCliHostile({"inspect", pkg.string()}, /*model_bytes=*/0);
///   ExpectRefusedNaming(r, /*exit_code=*/8, (pkg / "Manifest.json").string());
#ifndef TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_
#define TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tests/hardening/hostile_run.h"

namespace ts2coreml::testing {

using hardening::UnderSanitizers;

struct HostileResult : plugin_test::RunResult {
  std::uint64_t model_bytes = 0;  ///< the size of the model the run read
};

/// Runs TS2COREML_CLI with `args` under RunHostile; `model_bytes` is the size of the model it
/// reads (the memory allowance starts there); `fsize_blocks` > 0 sets `ulimit -f` (512-byte
/// blocks) for the child.
HostileResult RunCliHostile(const std::vector<std::string>& args, std::uint64_t model_bytes,
                            int fsize_blocks = 0);

/// Exit 0, not killed and, in a plain build, within the time and memory limits.
void ExpectSucceeded(const HostileResult& r);

/// hardening::Refused: the documented `exit_code`, exactly one `ts2coreml: error:` line naming
/// `must_name`, within the limits.
void ExpectRefusedNaming(const HostileResult& r, int exit_code, const std::string& must_name);

}  // namespace ts2coreml::testing

#endif  // TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_
