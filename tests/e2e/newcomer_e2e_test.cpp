// What a newcomer runs into first, through the real CLI: a binary copied away from its plugins,
// help, an fp16 package whose values underflow, warnings about constants fp16 rounds to zero,
// and how MIL ops are counted.
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/json.h"
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

json::Value ParseJson(const std::string& text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << text;
  return v.ok() ? *std::move(v) : json::Value();
}

/// Converts precision model `name` (input x:`shape`) in fp16 into `dir`; the summary.
std::string ConvertFp16(const TempDir& dir, const std::string& name, const std::string& shape) {
  CliResult r = RunProgram(
      TS2COREML_CLI, {"convert", PrecisionModel(name), "-o", (dir / (name + ".mlpackage")).string(),
                      "--input", "x:" + shape, "--precision", "fp16"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// Activations scaled by 1e-9 fall below fp16's range: verify says so as the cause, at the op where
// LibTorch's values fall below it, instead of "the error grows over many ops".
TEST(NewcomerE2E, VerifyNamesValuesBelowFp16sRangeAsTheCause) {
  TempDir dir;
  ConvertFp16(dir, "underflow", "1x16");
  const std::string pkg = (dir / "underflow.mlpackage").string();
  CliResult r =
      RunProgram(TS2COREML_CLI, {"verify", PrecisionModel("underflow"), pkg, "--localize"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the reference underflows fp16: 100% of its nonzero magnitudes "
                                  "are below fp16's smallest normal (2^-14)"));
  EXPECT_THAT(r.output, HasSubstr("cause: LibTorch's values fall below fp16's range from mul"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("the error grows over many ops")));
  r = RunProgram(TS2COREML_CLI,
                 {"verify", PrecisionModel("underflow"), pkg, "--localize", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // The report on stdout; the error line on stderr may come before or after it.
  const size_t begin = r.output.find('{');
  ASSERT_NE(begin, std::string::npos) << r.output;
  const json::Value doc = ParseJson(r.output.substr(begin, r.output.rfind('}') + 1 - begin));
  const json::Value* loc = doc.Find("localize");
  ASSERT_NE(loc, nullptr) << r.output;
  const json::Value* first = loc->Find("first_underflow");
  ASSERT_TRUE(first != nullptr && first->Find("torch_op") != nullptr) << r.output;
  EXPECT_EQ(first->Find("torch_op")->string, "aten::mul.Tensor");
  EXPECT_EQ(first->Find("below_fp16_normal")->number, 1.0);
  // The fp32 package of the same model is within tolerance: nothing to say.
  r = RunProgram(TS2COREML_CLI,
                 {"convert", PrecisionModel("underflow"), "-o", (dir / "fp32.mlpackage").string(),
                  "--input", "x:1x16", "--precision", "fp32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunProgram(TS2COREML_CLI,
                 {"verify", PrecisionModel("underflow"), (dir / "fp32.mlpackage").string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A constant whose values fp16 rounds to zero is warned about with the amount lost; one whose
// only such value is negligible next to the others is not.
TEST(NewcomerE2E, ConstantsThatUnderflowAreWarnedWithTheAmountLost) {
  TempDir dir;
  const std::string summary = ConvertFp16(dir, "tiny_constant", "1x16");
  EXPECT_THAT(summary,
              ::testing::ContainsRegex(
                  "warning: aten::mul.Tensor.*: constant '[^']*w' has 16 nonzero values "
                  "that round to zero \\(100% of its L2 norm, the largest [0-9.e-]+\\) in fp16"));
  EXPECT_THAT(summary, ::testing::Not(HasSubstr("v' has")));
  EXPECT_THAT(summary, ::testing::Not(HasSubstr("to infinity")));
}

// The default conversion of mobilenet_v3_large (scripts/demo.sh) warns about no folded bias.
TEST(NewcomerE2E, MobileNetV3sFoldedBiasesAreNotWarnedAbout) {
  TempDir dir;
  CliResult r = RunProgram(
      TS2COREML_CLI,
      {"convert", (fs::path(TS2COREML_TEST_MODELS_DIR) / "mobilenet_v3_large.pt").string(), "-o",
       (dir / "mnv3.mlpackage").string(), "--input", "x:1x3x224x224", "--precision", "fp16"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("round to zero"))) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("folded_bias")));
}

// "MIL ops" means the same in convert's summary and inspect: consts and casts not counted.
TEST(NewcomerE2E, SummaryAndInspectCountMilOpsAlike) {
  TempDir dir;
  const std::string summary = ConvertFp16(dir, "precision_rules", "1x6x16");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(summary, m, std::regex("MIL ops \\((\\d+), consts and casts not counted")))
      << summary;
  std::smatch c;
  ASSERT_TRUE(std::regex_search(summary, c, std::regex("casts inserted \\((\\d+)\\)")));
  CliResult r = RunProgram(TS2COREML_CLI,
                           {"inspect", (dir / "precision_rules.mlpackage").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  EXPECT_EQ(static_cast<int>(doc.Find("num_ops")->number), std::stoi(m[1])) << r.output;
  EXPECT_EQ(static_cast<int>(doc.Find("num_casts")->number), std::stoi(c[1])) << r.output;
  EXPECT_GT(std::stoi(c[1]), 0);
  int without_casts = 0;
  for (const auto& [type, dtypes] : doc.Find("ops")->object) {
    for (const auto& [dtype, count] : dtypes.object) {
      if (type != "cast") without_casts += static_cast<int>(count.number);
    }
  }
  EXPECT_EQ(without_casts, std::stoi(m[1]));
  r = RunProgram(TS2COREML_CLI, {"inspect", (dir / "precision_rules.mlpackage").string()});
  EXPECT_THAT(r.output,
              HasSubstr(absl::StrCat("MIL ops (", m[1].str(), ", consts and casts not counted")));
}

}  // namespace
}  // namespace ts2coreml
