/// Ending a command-line process without paying for its teardown.
///
/// A conversion ends with hundreds of MB of weights, graphs and the program still allocated, and
/// LibTorch's dependencies register thousands of static objects. Freeing the weights one by one
/// and running every shared library's destructors is pure waste when the process is about to
/// end (vgg11: 25-40 ms freeing its weights, then ~50 ms and ~4 MB of newly touched pages in the
/// libraries' exit handlers, which raised the peak RSS of small models). Like clang's
/// `-disable-free`, the CLI skips both; sanitizer builds tear down normally so that
/// LeakSanitizer still checks every command.
#ifndef TS2COREML_CORE_BASE_PROCESS_EXIT_H_
#define TS2COREML_CORE_BASE_PROCESS_EXIT_H_

#include <memory>
#include <utility>

namespace ts2coreml::core {

/// True when this build skips teardown (false under AddressSanitizer, which checks leaks at exit).
bool TeardownSkipped();

/// Keeps `value` alive until the process ends and never destroys it: it stays reachable from a
/// process-wide list, so leak checkers do not report it. For state a command built and is done
/// with just before exiting.
void KeepUntilExit(std::shared_ptr<void> value);

template <typename T>
void KeepUntilExit(T&& value) {
  KeepUntilExit(std::shared_ptr<void>(std::make_shared<std::decay_t<T>>(std::forward<T>(value))));
}

/// Flushes standard output and error and ends the process with `code` without running
/// destructors or exit handlers when TeardownSkipped(); otherwise returns `code` for main() to
/// return. Call only from main(), after every file has been closed.
int ExitWithoutTeardown(int code);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_BASE_PROCESS_EXIT_H_
