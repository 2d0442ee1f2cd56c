/// ts2coreml: converts TorchScript models to Core ML ML Programs.
///
/// main() only dispatches: each command is a `int RunX(args)` in its own file, listed in
/// Commands() below. The commands that read TorchScript (convert, coverage, verify) run in the
/// LibTorch commands' library, loaded only for them (core/cli/torch_commands_loader.h): this
/// executable links no LibTorch.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/base/process_exit.h"
#include "core/cli/cli_args.h"
#include "core/cli/cli_common.h"
#include "core/cli/command_usage.h"
#include "core/cli/inspect_command.h"
#include "core/cli/registry_command.h"
#include "core/cli/torch_commands_loader.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::core {
namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
  std::string (*usage)();
};

int RunConvertCommand(const std::vector<std::string>& args) {
  return RunTorchCommand("convert", args);
}
int RunCoverageCommand(const std::vector<std::string>& args) {
  return RunTorchCommand("coverage", args);
}
int RunVerifyCommand(const std::vector<std::string>& args) {
  return RunTorchCommand("verify", args);
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"convert", RunConvertCommand, ConvertUsage}, {"coverage", RunCoverageCommand, CoverageUsage},
      {"inspect", RunInspect, InspectUsage},        {"registry", RunRegistry, RegistryUsage},
      {"verify", RunVerifyCommand, VerifyUsage},
  };
  return commands;
}

std::string Usage() {
  std::string out = "usage: ts2coreml COMMAND [options]\n\ncommands:\n";
  for (const Command& c : Commands()) out += c.usage();
  out += R"(  help [COMMAND]             this text, or one command's
  version                    the version and plugin ABI

options for every command that loads plugins:
  --plugin-dir DIR           load plugins from DIR too (repeatable; also TS2COREML_PLUGIN_PATH)
  --allow-insecure-plugins   load plugins that are group/world-writable or owned by another user
  --quiet                    print errors only

exit codes (docs/cli.md): 0 ok, 1 check failed, 2 usage, 3 unsupported ops, 4 model,
5 input spec, 6 plugin, 7 output, 8 package, 9 conversion, 10 internal
)";
  return out;
}

/// `help` prints every command's usage; `help COMMAND` that command's only.
int Help(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    std::cout << Usage();
    return 0;
  }
  for (const Command& c : Commands()) {
    if (args[1] == c.name) {
      std::cout << "usage: ts2coreml\n" << c.usage();
      return 0;
    }
  }
  return ReportError(Error(ErrorClass::kUsage, absl::StrCat("help: unknown command '", args[1],
                                                            "'; see 'ts2coreml help'")));
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << Usage();
    return static_cast<int>(ErrorClass::kUsage);
  }
  const std::string& name = args[0];
  if (name == "help" || name == "--help" || name == "-h") return Help(args);
  if (name == "version" || name == "--version") {
    std::cout << "ts2coreml " << TS2COREML_VERSION << " (plugin ABI " << T2C_ABI_VERSION << ")\n";
    return 0;
  }
  for (const Command& c : Commands()) {
    if (name == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return ReportError(Error(ErrorClass::kUsage,
                           absl::StrCat("unknown command '", name, "'; see 'ts2coreml help'")));
}

}  // namespace
}  // namespace ts2coreml::core

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    // Every command has closed its files by now; skip the teardown (core/base/process_exit.h).
    return ts2coreml::core::ExitWithoutTeardown(ts2coreml::core::Run(args));
  } catch (const std::exception& e) {
    std::cerr << "ts2coreml: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ts2coreml: internal error: unknown exception\n";
  }
  return static_cast<int>(ts2coreml::core::ErrorClass::kInternal);
}
