/// `ts2coreml coverage MODEL.pt [...]`: every op kind of the model, the lowering that takes it and
/// its planned compute dtype, and every unsupported op at once (core/report/coverage_report.h).
/// The options are convert's, parsed by ParseCommandLine (cli_args.h); CoverageUsage documents
/// them.
#ifndef TS2COREML_CORE_CLI_COVERAGE_COMMAND_H_
#define TS2COREML_CORE_CLI_COVERAGE_COMMAND_H_

#include <string>
#include <vector>

namespace ts2coreml::core {

/// Runs `ts2coreml coverage` (args after the command name); exit 0 when every op is covered, 3
/// when not, or another code of docs/cli.md.
int RunCoverage(const std::vector<std::string>& args);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CLI_COVERAGE_COMMAND_H_
