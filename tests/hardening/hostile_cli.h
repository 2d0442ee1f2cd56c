/// Runs the ts2coreml CLI on hostile input under the limits the hardening tests hold it to: a
/// wall-clock limit (the process group is killed after it), peak RSS measured with wait4, and
/// optionally a file-size limit (RLIMIT_FSIZE) for the child.
///
///   HostileResult r = RunCliHostile({"inspect", pkg.string()}, /*model_bytes=*/0);
///   ExpectRefusedNaming(r, /*exit_code=*/8, (pkg / "Manifest.json").string());
#ifndef TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_
#define TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ts2coreml::testing {

/// Wall-clock limit of one hostile run.
inline constexpr double kHostileSeconds = 10.0;
/// Peak RSS allowed beyond the model's own size (checked only without sanitizers).
inline constexpr int64_t kHostileExtraBytes = int64_t{300} << 20;

struct HostileResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr, interleaved
  double seconds = 0;
  bool timed_out = false;
  int64_t peak_rss_bytes = 0;
  int64_t model_bytes = 0;
};

/// True in an AddressSanitizer build (scripts/ci-sanitizers.sh).
bool UnderSanitizers();

/// Runs TS2COREML_CLI with `args`; `model_bytes` is the size of the model it reads (the memory
/// allowance starts there); `fsize_limit` > 0 sets RLIMIT_FSIZE in the child.
HostileResult RunCliHostile(const std::vector<std::string>& args, int64_t model_bytes,
                            int64_t fsize_limit = 0);

/// Exit 0 within the limits.
void ExpectSucceeded(const HostileResult& r);

/// The documented `exit_code`, exactly one line `ts2coreml: error: ...` containing `must_name`,
/// within the limits.
void ExpectRefusedNaming(const HostileResult& r, int exit_code, const std::string& must_name);

}  // namespace ts2coreml::testing

#endif  // TS2COREML_TESTS_HARDENING_HOSTILE_CLI_H_
