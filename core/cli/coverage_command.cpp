#include "core/cli/coverage_command.h"

#include <iostream>

#include "core/base/errors.h"
#include "core/cli/cli_args.h"
#include "core/cli/cli_common.h"
#include "core/cli/command_usage.h"
#include "core/convert/converter.h"
#include "core/report/coverage_report.h"

namespace ts2coreml::core {

int RunCoverage(const std::vector<std::string>& args) {
  std::vector<std::string> full = {"coverage"};
  full.insert(full.end(), args.begin(), args.end());
  absl::StatusOr<ParsedCommand> cmd = ParseCommandLine(full);
  if (!cmd.ok()) return ReportError(cmd.status());
  if (cmd->command == "help") {
    std::cout << "usage: ts2coreml\n" << CoverageUsage();
    return 0;
  }
  registry::Registry reg = LoadPlugins(cmd->common);
  absl::StatusOr<CoverageReport> report = Coverage(cmd->convert, reg);
  if (!report.ok()) return ReportError(report.status());
  std::cout << (cmd->json ? FormatCoverageJson(*report) : FormatCoverageText(*report));
  return report->covered() ? 0 : static_cast<int>(ErrorClass::kUnsupportedOps);
}

}  // namespace ts2coreml::core
