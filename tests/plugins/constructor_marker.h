/// A static constructor for test plugins that proves whether the library was loaded: when the
/// environment variable T2C_TEST_MARKER_DIR names a folder, loading the library creates the file
/// `<folder>/<PLUGIN_NAME>` there. A plugin refused before loading leaves no such file.
///
///   #define PLUGIN_NAME "t2ctest.broken_abi_zero"   // (usually a compile definition)
///   #include "tests/plugins/constructor_marker.h"
#ifndef TS2COREML_TESTS_PLUGINS_CONSTRUCTOR_MARKER_H_
#define TS2COREML_TESTS_PLUGINS_CONSTRUCTOR_MARKER_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#ifndef PLUGIN_NAME
#error "define PLUGIN_NAME before including constructor_marker.h"
#endif

namespace {

/// Runs when the library is loaded, and only then.
__attribute__((constructor)) void WriteLoadMarker() {
  const char* dir = std::getenv("T2C_TEST_MARKER_DIR");
  if (dir == nullptr || *dir == '\0') return;
  const std::string path = std::string(dir) + "/" + PLUGIN_NAME;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
}

}  // namespace

#endif  // TS2COREML_TESTS_PLUGINS_CONSTRUCTOR_MARKER_H_
