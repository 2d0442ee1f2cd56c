#include "core/base/process_exit.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <vector>

namespace ts2coreml::core {

bool TeardownSkipped() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

void KeepUntilExit(std::shared_ptr<void> value) {
  // Never destroyed (a heap object behind a function-local pointer): no exit handler frees it.
  static auto* kept = new std::vector<std::shared_ptr<void>>();
  kept->push_back(std::move(value));
}

int ExitWithoutTeardown(int code) {
  if (!TeardownSkipped()) return code;
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace ts2coreml::core
