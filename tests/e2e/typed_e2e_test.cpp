// End to end: typed --input (NAME:SHAPE:DTYPE) through the CLI on the typed op-sweep models:
// the errors for a float id argument and a bad DTYPE, the int32 boundary in the summary, and
// verify's integer inputs (random ids below the embedding's size, .npy files) and exact integer
// outputs, in text and JSON.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

std::string Model(const std::string& name) {
  return (fs::path(TS2COREML_OP_MODELS_DIR) / "typed" / (name + ".pt")).string();
}

std::string Npy(const std::string& name) {
  return (fs::path(TS2COREML_OP_MODELS_DIR) / "typed" / name).string();
}

CliResult Convert(const std::string& model, const fs::path& out,
                  const std::vector<std::string>& inputs) {
  std::vector<std::string> args = {"convert", Model(model), "-o", out.string()};
  for (const std::string& i : inputs) args.insert(args.end(), {"--input", i});
  return RunProgram(TS2COREML_CLI, args);
}

TEST(TypedE2eTest, AFloatArgumentReadAsIdsIsAnErrorNamingIt) {
  TempDir tmp;
  CliResult r = Convert("embedding_int64", tmp / "e.mlpackage", {"input:2x7"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("forward() argument 'input' is float (no DTYPE in its --input; "
                                  "traced models carry none) but aten::embedding reads it as "
                                  "indices; give --input input:2x7:int64"));
  r = Convert("embedding_int64", tmp / "e.mlpackage", {"input:2x7:fp32"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("forward() argument 'input' is given as fp32 but aten::embedding "
                                  "reads it as indices"));
  EXPECT_FALSE(fs::exists(tmp / "e.mlpackage"));
}

TEST(TypedE2eTest, ABadDtypeIsAnInputSpecError) {
  TempDir tmp;
  CliResult r = Convert("embedding_int64", tmp / "e.mlpackage", {"input:2x7:long"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(
      r.output,
      HasSubstr(
          "--input 'input:2x7:long': unknown DTYPE 'long' (use fp32, fp16, int32, int64, uint8 or bool)"));
}

TEST(TypedE2eTest, Int64IdsCrossAsInt32AndVerifyDrawsThemBelowTheTableSize) {
  TempDir tmp;
  const fs::path pkg = tmp / "e.mlpackage";
  CliResult r = Convert("embedding_int64", pkg, {"input:2x7:int64"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("input int32[2,7]"));
  EXPECT_THAT(r.output, HasSubstr("model input 'input' (int64) crosses the Core ML boundary as "
                                  "int32: Core ML model inputs have no int64"));
  // Random ids: several runs, each below the 100 embeddings (LibTorch would fail otherwise).
  r = RunProgram(TS2COREML_CLI, {"verify", Model("embedding_int64"), pkg.string(), "--runs", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunProgram(TS2COREML_CLI, {"verify", Model("embedding_int64"), pkg.string(), "--input",
                                 "input=" + Npy("embedding_int64.input.npy")});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // A float array (of the right shape) for the ids is refused.
  r = RunProgram(TS2COREML_CLI, {"verify", Model("embedding_int64"), pkg.string(), "--input",
                                 "input=" + Npy("bool_to_float.x.npy")});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("holds floats but input 'input' is int64"));
}

TEST(TypedE2eTest, IntegerAndBoolOutputsAreComparedExactly) {
  TempDir tmp;
  const fs::path pkg = tmp / "c.mlpackage";
  CliResult r = Convert("compare_int_output", pkg, {"ids:3x4:int32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Core ML model outputs have no bool"));
  r = RunProgram(TS2COREML_CLI, {"verify", Model("compare_int_output"), pkg.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("int32[3,4]: exact, 0 of 12 elements differ  ok"));
  r = RunProgram(TS2COREML_CLI, {"verify", Model("compare_int_output"), pkg.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"exact\": true"));
  EXPECT_THAT(r.output, HasSubstr("\"mismatched_elements\": 0"));
  EXPECT_THAT(r.output, HasSubstr("\"elements\": 12"));
}

}  // namespace
}  // namespace ts2coreml
