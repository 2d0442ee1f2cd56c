// The entry point of libts2coreml_torch_commands.so (core/cli/torch_commands.h).
#include "core/cli/torch_commands.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/cli/cli_common.h"
#include "core/cli/convert_command.h"
#include "core/cli/coverage_command.h"
#include "core/cli/verify_command.h"

namespace ts2coreml::core {
namespace {

int RunTorchCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    return ReportError(Error(ErrorClass::kUsage, "no command given to the LibTorch commands"));
  }
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (argv[0] == "convert") return RunConvert(args);
  if (argv[0] == "coverage") return RunCoverage(args);
  if (argv[0] == "verify") return RunVerify(args);
  return ReportError(Error(ErrorClass::kUsage,
                           absl::StrCat("unknown command '", argv[0], "'; see 'ts2coreml help'")));
}

}  // namespace
}  // namespace ts2coreml::core

extern "C" int ts2coreml_torch_commands_main(int argc, const char* const* argv) {
  namespace core = ts2coreml::core;
  try {
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) args.emplace_back(argv[i] != nullptr ? argv[i] : "");
    return core::RunTorchCommand(args);
  } catch (const std::exception& e) {
    std::cerr << "ts2coreml: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ts2coreml: internal error: unknown exception\n";
  }
  return static_cast<int>(core::ErrorClass::kInternal);
}
