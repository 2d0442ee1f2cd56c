/// Tests of command-line parsing: --input specs, required arguments, defaults and repeatable
/// options, with the error class (exit code) of every refusal.
#include "core/cli/cli_args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/cli/command_usage.h"

namespace ts2coreml::core {
namespace {

using Args = std::vector<std::string>;

Args Convert(Args extra) {
  Args a = {"convert", "model.pt", "-o", "out.mlpackage", "--input", "x:1x3x224x224"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(ParseInputSpecTest, NameAndShape) {
  absl::StatusOr<InputSpec> s = ParseInputSpec("x:1x3x224x224");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "x");
  EXPECT_EQ(s->shape, (std::vector<int64_t>{1, 3, 224, 224}));

  s = ParseInputSpec("input.1:7");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "input.1");
  EXPECT_EQ(s->shape, (std::vector<int64_t>{7}));
}

TEST(ParseInputSpecTest, DtypeFollowsTheShape) {
  const std::vector<std::pair<std::string, InputDtype>> cases = {
      {"x:1x3", InputDtype::kDefault},       {"x:1x3:fp32", InputDtype::kFp32},
      {"x:1x3:fp16", InputDtype::kFp16},     {"ids:1x7:int32", InputDtype::kInt32},
      {"ids:1x7:int64", InputDtype::kInt64}, {"mask:2x7:bool", InputDtype::kBool},
  };
  for (const auto& [text, dtype] : cases) {
    absl::StatusOr<InputSpec> s = ParseInputSpec(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status();
    EXPECT_EQ(s->dtype, dtype) << text;
    EXPECT_EQ(s->shape.size(), 2u) << text;
  }
  absl::StatusOr<InputSpec> s = ParseInputSpec("a:b:2x3:int64");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "a:b");
  EXPECT_EQ(s->shape, (std::vector<int64_t>{2, 3}));
}

TEST(ParseInputSpecTest, BadDtypesAreInputSpecErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x:1x3:float", "unknown DTYPE 'float' (use fp32, fp16, int32, int64, uint8 or bool)"},
      {"x:1x3:INT64", "unknown DTYPE 'INT64'"},
      {"x:int64", "no ':' between name and shape"},
      {"x::int64", "empty shape"},
  };
  for (const auto& [text, why] : cases) {
    absl::StatusOr<InputSpec> s = ParseInputSpec(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(ClassOf(s.status()), ErrorClass::kInputSpec) << text;
    const std::string msg(s.status().message());
    EXPECT_NE(msg.find(why), std::string::npos) << text << ": " << msg;
    EXPECT_NE(msg.find("NAME:SHAPE[:DTYPE]"), std::string::npos) << msg;
  }
}

TEST(ParseInputSpecTest, BadSpecsAreInputSpecErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x", "no ':'"},
      {"x:", "empty shape"},
      {":1x2", "empty name"},
      {"x:1xax3", "'a' is not a number"},
      {"x:0x3", "dimension 0 is not positive"},
      {"x:-1", "dimension -1 is not positive"},
      {"x:1x", "'' is not a number"},
      {"x:1x2x3x4x5x6", "rank 5"},
      {"x:1x3x9223372036854775807x1", "more than 2147483647 elements"},
      {"x:4294967296x4294967296", "more than 2147483647 elements"},
      {"x:65536x32768", "more than 2147483647 elements"},
  };
  for (const auto& [text, why] : cases) {
    absl::StatusOr<InputSpec> s = ParseInputSpec(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(ClassOf(s.status()), ErrorClass::kInputSpec) << text;
    const std::string msg(s.status().message());
    EXPECT_NE(msg.find("'" + text + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(why), std::string::npos) << text << ": " << msg;
    EXPECT_NE(msg.find("NAME:SHAPE"), std::string::npos) << msg;
  }
}

TEST(ParseInputSpecTest, TheLargestShapeIsAccepted) {
  absl::StatusOr<InputSpec> s = ParseInputSpec("x:2147483647");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->shape, std::vector<int64_t>{kMaxInputElements});
  EXPECT_TRUE(ParseInputSpec("x:1x32768x65535").ok());
}

TEST(ParseCommandLineTest, ConvertWithDefaults) {
  absl::StatusOr<ParsedCommand> c = ParseCommandLine(Convert({}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->command, "convert");
  EXPECT_EQ(c->convert.model, "model.pt");
  EXPECT_EQ(c->convert.output, "out.mlpackage");
  ASSERT_EQ(c->convert.inputs.size(), 1u);
  EXPECT_EQ(c->convert.inputs[0].name, "x");
  EXPECT_EQ(c->convert.precision.precision, Precision::kFp16);
  EXPECT_EQ(c->convert.precision.target, Target::kIos16);
  EXPECT_EQ(c->convert.precision.io_dtype, mil::DType::kFloat32);
  EXPECT_FALSE(c->convert.force);
  EXPECT_TRUE(c->convert.output_names.empty());
  EXPECT_TRUE(c->common.plugin_dirs.empty());
  EXPECT_FALSE(c->common.allow_insecure_plugins);
  EXPECT_FALSE(c->common.quiet);
}

TEST(ParseCommandLineTest, AllOptions) {
  absl::StatusOr<ParsedCommand> c =
      ParseCommandLine(Convert({"--precision", "fp32", "--target", "ios17", "--io-dtype", "fp16",
                                "--force", "--allow-insecure-plugins", "-q"}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->convert.precision.precision, Precision::kFp32);
  EXPECT_EQ(c->convert.precision.target, Target::kIos17);
  EXPECT_EQ(c->convert.precision.io_dtype, mil::DType::kFloat16);
  EXPECT_TRUE(c->convert.force);
  EXPECT_TRUE(c->common.allow_insecure_plugins);
  EXPECT_TRUE(c->common.quiet);
}

TEST(ParseCommandLineTest, OptionsMayComeBeforeTheModel) {
  absl::StatusOr<ParsedCommand> c = ParseCommandLine(
      {"convert", "--input", "a:2", "--output-path", "o.mlpackage", "--target", "ios15", "m.pt"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->convert.model, "m.pt");
  EXPECT_EQ(c->convert.output, "o.mlpackage");
  EXPECT_EQ(c->convert.precision.target, Target::kIos15);
}

TEST(ParseCommandLineTest, RepeatableOptionsKeepTheirOrder) {
  absl::StatusOr<ParsedCommand> c =
      ParseCommandLine(Convert({"--plugin-dir", "/p1", "--input", "mask:1x224x224", "--plugin-dir",
                                "/p2", "--output", "logits", "--output", "boxes"}));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->common.plugin_dirs.size(), 2u);
  EXPECT_EQ(c->common.plugin_dirs[0], "/p1");
  EXPECT_EQ(c->common.plugin_dirs[1], "/p2");
  ASSERT_EQ(c->convert.inputs.size(), 2u);
  EXPECT_EQ(c->convert.inputs[0].name, "x");
  EXPECT_EQ(c->convert.inputs[1].name, "mask");
  EXPECT_EQ(c->convert.inputs[1].shape, (std::vector<int64_t>{1, 224, 224}));
  EXPECT_EQ(c->convert.output_names, (std::vector<std::string>{"logits", "boxes"}));
}

void ExpectError(const Args& args, ErrorClass cls, const std::string& fragment) {
  absl::StatusOr<ParsedCommand> c = ParseCommandLine(args);
  ASSERT_FALSE(c.ok()) << fragment;
  EXPECT_EQ(ClassOf(c.status()), cls) << c.status();
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status();
}

TEST(ParseCommandLineTest, CalibrationAndAutoPrecision) {
  absl::StatusOr<ParsedCommand> c =
      ParseCommandLine({"convert", "m.pt", "-o", "o.mlpackage", "--input", "x:1x3", "--calibrate",
                        "4", "--calibration-seed", "7", "--calibration-data", "x=a.npy"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->convert.calibration.random_runs, 4);
  EXPECT_EQ(c->convert.calibration.seed, 7u);
  EXPECT_EQ(c->convert.calibration.files.at("x"), "a.npy");
  EXPECT_FALSE(c->convert.precision_auto);
  c = ParseCommandLine({"convert", "m.pt", "-o", "o.mlpackage", "--input", "x:1x3", "--precision",
                        "auto", "--min-cosine", "0.9995"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->convert.precision_auto);
  EXPECT_EQ(c->convert.precision.precision, Precision::kFp16);
  EXPECT_DOUBLE_EQ(c->convert.min_cosine, 0.9995);
  ExpectError({"convert", "m.pt", "-o", "o", "--input", "x:1", "--min-cosine", "0.9"},
              ErrorClass::kUsage, "--min-cosine is the target of --precision auto");
  ExpectError(
      {"convert", "m.pt", "-o", "o", "--input", "x:1", "--precision", "auto", "--min-cosine", "2"},
      ErrorClass::kUsage, "--min-cosine 2: give a cosine in (0, 1]");
  ExpectError({"coverage", "m.pt", "--precision", "auto"}, ErrorClass::kUsage,
              "--precision auto: use fp16 or fp32");
  ExpectError({"coverage", "m.pt", "--calibrate", "2"}, ErrorClass::kUsage,
              "unknown option --calibrate");
}

TEST(ParseCommandLineTest, MissingOutputPath) {
  ExpectError({"convert", "model.pt", "--input", "x:1x3"}, ErrorClass::kUsage, "-o");
}

TEST(ParseCommandLineTest, MissingModel) {
  ExpectError({"convert", "-o", "out.mlpackage", "--input", "x:1x3"}, ErrorClass::kUsage,
              "model file");
}

TEST(ParseCommandLineTest, TwoModels) {
  ExpectError({"convert", "a.pt", "b.pt", "-o", "o", "--input", "x:1"}, ErrorClass::kUsage,
              "one model file, got 2");
}

TEST(ParseCommandLineTest, MissingInputIsAnInputSpecError) {
  ExpectError({"convert", "model.pt", "-o", "out.mlpackage"}, ErrorClass::kInputSpec,
              "--input NAME:SHAPE");
}

TEST(ParseCommandLineTest, BadInputSpecIsAnInputSpecError) {
  ExpectError(Convert({"--input", "y:1xbx2"}), ErrorClass::kInputSpec, "'b' is not a number");
}

TEST(ParseCommandLineTest, UnknownOption) {
  ExpectError(Convert({"--frobnicate"}), ErrorClass::kUsage, "unknown option --frobnicate");
}

TEST(ParseCommandLineTest, BadEnumValues) {
  ExpectError(Convert({"--precision", "bogus"}), ErrorClass::kUsage, "--precision bogus");
  ExpectError(Convert({"--precision", "fp8"}), ErrorClass::kUsage, "use fp16, fp32 or auto");
  ExpectError(Convert({"--target", "ios14"}), ErrorClass::kUsage, "--target ios14");
  ExpectError(Convert({"--io-dtype", "int32"}), ErrorClass::kUsage, "--io-dtype int32");
}

TEST(ParseCommandLineTest, OptionWithoutValue) {
  ExpectError(Convert({"--precision"}), ErrorClass::kUsage, "--precision needs a value");
  ExpectError({"convert", "m.pt", "--input", "x:1", "-o"}, ErrorClass::kUsage, "-o needs a value");
}

TEST(ParseCommandLineTest, NoOrUnknownCommand) {
  ExpectError({}, ErrorClass::kUsage, "no command");
  ExpectError({"transmogrify"}, ErrorClass::kUsage, "unknown command 'transmogrify'");
}

TEST(ParseCommandLineTest, HelpAndVersion) {
  for (const Args& a : {Args{"help"}, Args{"--help"}, Args{"-h"}, Args{"convert", "--help"}}) {
    absl::StatusOr<ParsedCommand> c = ParseCommandLine(a);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->command, "help");
  }
  absl::StatusOr<ParsedCommand> v = ParseCommandLine({"--version"});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->command, "version");
  EXPECT_NE(ConvertUsage().find("--io-dtype"), std::string::npos);
}

}  // namespace
}  // namespace ts2coreml::core
