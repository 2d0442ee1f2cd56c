/// ts2coreml: converts TorchScript models to Core ML ML Programs.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/cli/cli_args.h"
#include "core/convert/converter.h"
#include "registry/plugin_dirs.h"
#include "registry/registry.h"

namespace ts2coreml::core {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "ts2coreml: error: " << status.message() << "\n";
  return static_cast<int>(ClassOf(status));
}

registry::Registry LoadPlugins(const CommonFlags& flags) {
  absl::StatusOr<std::filesystem::path> exe = registry::ExecutablePath();
  std::vector<std::filesystem::path> dirs = registry::DefaultPluginDirs(
      exe.ok() ? *exe : std::filesystem::path(), flags.plugin_dirs,
      std::getenv(registry::kPluginPathEnvVar));
  registry::LoadOptions options;
  options.allow_insecure = flags.allow_insecure_plugins;
  registry::Registry reg = registry::Registry::Load(dirs, options);
  for (const registry::RefusedPlugin& r : reg.refused()) {
    std::cerr << "ts2coreml: warning: plugin refused: " << r.reason << "\n";
  }
  for (const std::string& w : reg.warnings()) {
    std::cerr << "ts2coreml: warning: " << w << "\n";
  }
  return reg;
}

int Run(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedCommand> cmd = ParseCommandLine(args);
  if (!cmd.ok()) return Fail(cmd.status());
  if (cmd->command == "help") {
    std::cout << UsageText();
    return 0;
  }
  if (cmd->command == "version") {
    std::cout << "ts2coreml " << TS2COREML_VERSION << " (plugin ABI " << T2C_ABI_VERSION << ")\n";
    return 0;
  }
  registry::Registry reg = LoadPlugins(cmd->common);
  absl::StatusOr<ConversionReport> report = Convert(cmd->convert, reg);
  if (!report.ok()) return Fail(report.status());
  if (!cmd->common.quiet) std::cout << FormatSummary(*report);
  return 0;
}

}  // namespace
}  // namespace ts2coreml::core

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return ts2coreml::core::Run(args);
  } catch (const std::exception& e) {
    std::cerr << "ts2coreml: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ts2coreml: internal error: unknown exception\n";
  }
  return static_cast<int>(ts2coreml::core::ErrorClass::kInternal);
}
