#include "tests/hardening/hostile_cli.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ts2coreml::testing {

HostileResult RunCliHostile(const std::vector<std::string>& args, std::uint64_t model_bytes,
                            int fsize_blocks) {
  HostileResult r;
  if (fsize_blocks > 0) {
    // The shell sets the limit and execs the CLI: the limit applies to the CLI alone.
    std::vector<std::string> sh = {
        "-c", absl::StrCat("ulimit -f ", fsize_blocks, " && exec \"$0\" \"$@\""), TS2COREML_CLI};
    sh.insert(sh.end(), args.begin(), args.end());
    static_cast<plugin_test::RunResult&>(r) = hardening::RunHostile("/bin/sh", sh);
  } else {
    static_cast<plugin_test::RunResult&>(r) = hardening::RunHostile(TS2COREML_CLI, args);
  }
  r.model_bytes = model_bytes;
  return r;
}

void ExpectSucceeded(const HostileResult& r) {
  EXPECT_FALSE(r.timed_out) << "killed after " << r.seconds << " s:\n" << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (UnderSanitizers()) return;
  EXPECT_LE(r.seconds, static_cast<double>(hardening::kTimeLimit.count()));
  EXPECT_LE(static_cast<std::uint64_t>(r.peak_rss_kb) * 1024,
            hardening::kMemoryLimitBytes + r.model_bytes)
      << "peak RSS " << (r.peak_rss_kb >> 10) << " MB";
}

void ExpectRefusedNaming(const HostileResult& r, int exit_code, const std::string& must_name) {
  EXPECT_TRUE(hardening::Refused(r, exit_code, must_name, r.model_bytes));
}

}  // namespace ts2coreml::testing
