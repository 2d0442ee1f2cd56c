// What a newcomer runs into first, through the real CLI: a binary copied away from its plugins.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using ::testing::HasSubstr;
using testing::RunProgram;
using testing::TempDir;

std::string PrecisionModel(const std::string& name) {
  return (fs::path(TS2COREML_PRECISION_MODELS_DIR) / (name + ".pt")).string();
}

// The first thing said is that the built-in plugins are missing and where they were looked for,
// before the error listing the ops nothing lowers.
TEST(NewcomerE2E, ABinaryCopiedAwayFromItsPluginsSaysSoFirst) {
  // The CLI with its LibTorch commands' library, without the plugins folder beside them.
  TempDir dir;
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "lib/ts2coreml");
  const fs::path cli = dir / "bin/ts2coreml";
  fs::copy_file(TS2COREML_CLI, cli);
  fs::permissions(cli, fs::perms(0755));
  fs::copy_file(
      fs::path(TS2COREML_CLI).parent_path() / "../lib/ts2coreml/libts2coreml_torch_commands.so",
      dir / "lib/ts2coreml/libts2coreml_torch_commands.so");
  CliResult r = RunProgram(cli.string(), {"convert", PrecisionModel("precision_rules"), "-o",
                                          (dir / "m.mlpackage").string(), "--input", "x:1x6x16"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  const std::vector<std::string> lines = absl::StrSplit(r.output, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  const std::string looked = (dir / "lib/ts2coreml/plugins").string();
  EXPECT_THAT(lines[0], HasSubstr("ts2coreml: warning: no plugins were loaded: the built-in "
                                  "plugins are missing from " +
                                  looked))
      << r.output;
  EXPECT_THAT(lines.back(), HasSubstr("unsupported op")) << r.output;
  EXPECT_FALSE(fs::exists(dir / "m.mlpackage"));
}

// `help COMMAND` prints that command's usage only; an unknown one is a usage error naming it.
TEST(NewcomerE2E, HelpCommandPrintsThatCommandOnly) {
  CliResult r = RunProgram(TS2COREML_CLI, {"help", "verify"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("verify MODEL.pt PKG.mlpackage"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("convert MODEL.pt")));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("exit codes")));
  CliResult all = RunProgram(TS2COREML_CLI, {"help"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_THAT(all.output, HasSubstr("convert MODEL.pt"));
  EXPECT_THAT(all.output, HasSubstr("verify MODEL.pt PKG.mlpackage"));
  CliResult bad = RunProgram(TS2COREML_CLI, {"help", "convet"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("help: unknown command 'convet'"));
}

}  // namespace
}  // namespace ts2coreml
