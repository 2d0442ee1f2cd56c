#include "core/cli/convert_command.h"

#include <iostream>

#include "core/base/process_exit.h"
#include "core/cli/cli_args.h"
#include "core/cli/cli_common.h"
#include "core/cli/command_usage.h"
#include "core/convert/converter.h"

namespace ts2coreml::core {

int RunConvert(const std::vector<std::string>& args) {
  std::vector<std::string> full = {"convert"};
  full.insert(full.end(), args.begin(), args.end());
  absl::StatusOr<ParsedCommand> cmd = ParseCommandLine(full);
  if (!cmd.ok()) return ReportError(cmd.status());
  if (cmd->command == "help") {
    std::cout << "usage: ts2coreml\n" << ConvertUsage();
    return 0;
  }
  registry::Registry reg = LoadPlugins(cmd->common);
  // main() ends the process right after without teardown: freeing the weights would be wasted.
  cmd->convert.free_memory_on_return = !TeardownSkipped();
  absl::StatusOr<ConversionReport> report = Convert(cmd->convert, reg);
  if (!report.ok()) return ReportError(report.status());
  if (!cmd->common.quiet) std::cout << FormatSummary(*report);
  return 0;
}

}  // namespace ts2coreml::core
