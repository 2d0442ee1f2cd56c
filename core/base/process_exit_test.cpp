/// Tests of ending the CLI process without teardown: output is flushed, the exit code kept, exit
/// handlers and destructors skipped (except under AddressSanitizer, which tears down normally).
#include "core/base/process_exit.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace ts2coreml::core {
namespace {

int g_pipe = -1;

void WriteMarker(const char* text) {
  const ssize_t n = write(g_pipe, text, std::char_traits<char>::length(text));
  (void)n;
}

struct Noisy {
  ~Noisy() { WriteMarker("[destructor]"); }
};

/// Runs `body` in a child whose stdout goes into a pipe; returns (exit code, what it wrote).
std::pair<int, std::string> RunChild(void (*body)()) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    g_pipe = fds[1];
    body();
    std::_Exit(99);  // not reached
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ProcessExitTest, FlushesOutputKeepsTheCodeAndSkipsTeardown) {
  auto [code, out] = RunChild([] {
    std::atexit([] { WriteMarker("[atexit]"); });
    static Noisy static_object;
    KeepUntilExit(std::make_shared<Noisy>());
    std::cout << "summary without a newline";  // buffered: must be flushed
    std::exit(ExitWithoutTeardown(7));
  });
  EXPECT_EQ(code, 7);
  EXPECT_NE(out.find("summary without a newline"), std::string::npos) << out;
  // A kept object is never destroyed, with or without teardown.
  if (TeardownSkipped()) {
    EXPECT_EQ(out.find("[atexit]"), std::string::npos) << out;
    EXPECT_EQ(out.find("[destructor]"), std::string::npos) << out;
  } else {
    EXPECT_NE(out.find("[atexit]"), std::string::npos) << out;
    EXPECT_EQ(out.find("[destructor]"), out.rfind("[destructor]")) << "only the static object";
  }
}

TEST(ProcessExitTest, KeptValuesStayAlive) {
  auto counter = std::make_shared<int>(41);
  std::weak_ptr<int> watch = counter;
  KeepUntilExit(std::move(counter));
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ(*watch.lock(), 41);
}

}  // namespace
}  // namespace ts2coreml::core
