#include "tests/hardening/hostile_cli.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace ts2coreml::testing {
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

namespace {

/// Child side of RunCliHostile: own process group, output to `fd`, limits, exec.
[[noreturn]] void ExecChild(const std::vector<std::string>& args, int fd, int64_t fsize_limit) {
  ::setpgid(0, 0);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  if (fsize_limit > 0) {
    const rlimit limit = {static_cast<rlim_t>(fsize_limit), static_cast<rlim_t>(fsize_limit)};
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  std::vector<char*> argv;
  static std::string cli = TS2COREML_CLI;
  argv.push_back(cli.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

}  // namespace

HostileResult RunCliHostile(const std::vector<std::string>& args, int64_t model_bytes,
                            int64_t fsize_limit) {
  HostileResult r;
  r.model_bytes = model_bytes;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ExecChild(args, fds[1], fsize_limit);
  }
  ::close(fds[1]);
  const auto deadline = start + std::chrono::duration<double>(kHostileSeconds);
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd p = {fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

namespace {

void ExpectWithinLimits(const HostileResult& r) {
  EXPECT_FALSE(r.timed_out) << "killed after " << kHostileSeconds << " s; output:\n" << r.output;
  if (!UnderSanitizers()) {
    EXPECT_LT(r.peak_rss_bytes, r.model_bytes + kHostileExtraBytes)
        << "peak RSS " << (r.peak_rss_bytes >> 20) << " MB";
  }
}

}  // namespace

void ExpectSucceeded(const HostileResult& r) {
  ExpectWithinLimits(r);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

void ExpectRefusedNaming(const HostileResult& r, int exit_code, const std::string& must_name) {
  ExpectWithinLimits(r);
  EXPECT_EQ(r.exit_code, exit_code) << r.output;
  std::vector<std::string> lines;
  for (absl::string_view l : absl::StrSplit(r.output, '\n', absl::SkipWhitespace())) {
    lines.emplace_back(l);
  }
  ASSERT_EQ(lines.size(), 1u) << "expected a one-line error, got:\n" << r.output;
  EXPECT_EQ(lines[0].rfind("ts2coreml: error: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(must_name), std::string::npos)
      << "'" << must_name << "' missing from: " << lines[0];
}

}  // namespace ts2coreml::testing
