// The limits hostile-input tests run under: a hang is killed, time and peak memory are measured,
// and Refused() checks the one-line error.
#include "tests/hardening/hostile_run.h"

#include "gtest/gtest.h"

namespace ts2coreml::hardening {
namespace {

TEST(HostileRun, AHangIsKilledAtTheTimeout) {
  plugin_test::RunOptions options;
  options.timeout = std::chrono::milliseconds(300);
  // The shell's child keeps the pipe open too: the whole process group must go.
  const plugin_test::RunResult r =
      plugin_test::RunCommand("/bin/sh", {"-c", "sleep 30 & sleep 30"}, options);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + 9);
  EXPECT_LT(r.seconds, 5.0);
}

TEST(HostileRun, MeasuresPeakMemory) {
  // python3 allocating and touching 64 MB.
  const plugin_test::RunResult r = RunHostile(
      "/usr/bin/python3", {"-c", "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096])"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(r.timed_out);
  EXPECT_GE(r.peak_rss_kb, 64 * 1024);
}

TEST(HostileRun, RefusedWantsOneErrorLineNamingTheFile) {
  plugin_test::RunResult r;
  r.exit_code = 4;
  r.output = "ts2coreml: error: m.pt: broken; fix it\n";
  EXPECT_TRUE(Refused(r, 4, "m.pt"));
  EXPECT_FALSE(Refused(r, 5, "m.pt"));
  EXPECT_FALSE(Refused(r, 4, "other.pt"));
  r.output += "ts2coreml: error: again\n";
  EXPECT_FALSE(Refused(r, 4, "m.pt"));
  r.output = "Segmentation fault\n";
  EXPECT_FALSE(Refused(r, 4, "m.pt"));
  r.output = "ts2coreml: error: m.pt: broken; fix it\n";
  r.timed_out = true;
  EXPECT_FALSE(Refused(r, 4, "m.pt"));
}

TEST(HostileRun, RefusedChecksMemoryInPlainBuilds) {
  plugin_test::RunResult r;
  r.exit_code = 4;
  r.output = "ts2coreml: error: m.pt: broken; fix it\n";
  r.peak_rss_kb = static_cast<long>((kMemoryLimitBytes >> 10) + 1024);
  EXPECT_EQ(static_cast<bool>(Refused(r, 4, "m.pt")), UnderSanitizers());
  EXPECT_TRUE(Refused(r, 4, "m.pt", 2ull << 20));
}

}  // namespace
}  // namespace ts2coreml::hardening
