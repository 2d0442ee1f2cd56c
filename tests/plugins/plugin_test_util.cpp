#include "tests/plugins/plugin_test_util.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "core/mil/package_reader.h"
#include "gtest/gtest.h"

extern char** environ;

namespace ts2coreml::plugin_test {

namespace fs = std::filesystem;

namespace {

/// Writes a message from the forked child (async-signal-safe) and exits with 126.
[[noreturn]] void ChildFail(const char* what) {
  const char* reason = std::strerror(errno);
  const char prefix[] = "plugin_test: cannot ";
  (void)!write(2, prefix, sizeof(prefix) - 1);
  (void)!write(2, what, std::strlen(what));
  (void)!write(2, ": ", 2);
  (void)!write(2, reason, std::strlen(reason));
  (void)!write(2, "\n", 1);
  _exit(126);
}

/// Reads `fd` to its end into `out`. With a timeout, kills the process group `pid` when it
/// passes (and keeps reading: the pipe closes when the group is gone). True when it killed.
bool DrainOutput(int fd, pid_t pid, std::chrono::milliseconds timeout, std::string& out) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  bool killed = false;
  char buf[4096];
  for (;;) {
    if (timeout.count() > 0 && !killed) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd, POLLIN, 0};
      const int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        kill(-pid, SIGKILL);
        killed = true;
        continue;
      }
    }
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return killed;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

RunResult RunCommand(const std::string& program, const std::vector<std::string>& args,
                     const RunOptions& options) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  for (const std::string& e : options.env) envs.push_back(e);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd = options.cwd.string();
  const bool timed = options.timeout.count() > 0;

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (timed && setpgid(0, 0) != 0) ChildFail("start a process group");
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) ChildFail("chdir");
    if (options.uid.has_value()) {
      // Groups first: after setuid the process may no longer change them.
      if (setgroups(0, nullptr) != 0) ChildFail("drop supplementary groups");
      if (setresgid(kNobodyGid, kNobodyGid, kNobodyGid) != 0) ChildFail("setresgid");
      if (setresuid(*options.uid, *options.uid, *options.uid) != 0) ChildFail("setresuid");
      if (geteuid() != *options.uid) ChildFail("verify the dropped uid");
    }
    execve(program.c_str(), argv.data(), envp.data());
    ChildFail("exec");
  }
  // Both sides set the group, so the kill cannot race the child's own setpgid.
  if (timed) setpgid(pid, pid);
  close(fds[1]);
  RunResult result;
  result.timed_out = DrainOutput(fds[0], pid, options.timeout, result.output);
  close(fds[0]);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.peak_rss_kb = usage.ru_maxrss;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ScratchDir::ScratchDir() {
  std::string pattern = "/tmp/t2c-plugins-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  fs::permissions(path_, fs::perms(0755));
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path ScratchDir::Subdir(const std::string& name, unsigned mode) const {
  const fs::path dir = path_ / name;
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms(mode));
  return dir;
}

fs::path CopyInto(const fs::path& file, const fs::path& dir, unsigned mode,
                  const std::string& name) {
  const fs::path target = dir / (name.empty() ? file.filename().string() : name);
  fs::copy_file(file, target, fs::copy_options::overwrite_existing);
  fs::permissions(target, fs::perms(mode));
  return target;
}

std::vector<std::string> MainOpTypes(const fs::path& package) {
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(package);
  EXPECT_TRUE(pkg.ok()) << pkg.status();
  if (!pkg.ok()) return {};
  absl::Status valid = mil::ValidatePackage(*pkg);
  EXPECT_TRUE(valid.ok()) << valid;
  absl::StatusOr<const CoreML::Specification::MILSpec::Block*> block = mil::MainBlock(*pkg);
  EXPECT_TRUE(block.ok()) << block.status();
  if (!block.ok()) return {};
  std::vector<std::string> types;
  for (const auto& op : (*block)->operations()) {
    if (op.type() != "const") types.push_back(op.type());
  }
  return types;
}

}  // namespace ts2coreml::plugin_test
