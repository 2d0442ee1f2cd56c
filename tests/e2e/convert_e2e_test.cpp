// End to end: torchvision models made at test time, converted by the CLI through the built-in
// plugins, and every package read back and checked.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/mil/package_reader.h"
#include "core/mil/validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
namespace spec = CoreML::Specification;
namespace milspec = CoreML::Specification::MILSpec;
using testing::CliResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunProgram;
using testing::TempDir;

std::string ModelPath(const std::string& name) {
  return (fs::path(TS2COREML_TEST_MODELS_DIR) / (name + ".pt")).string();
}

/// The parameter count make_models.py measured on the eager model.
int64_t ParameterCount(const std::string& name) {
  std::ifstream in(fs::path(TS2COREML_TEST_MODELS_DIR) / (name + ".json"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::smatch m;
  const std::string text = ss.str();
  if (!std::regex_search(text, m, std::regex("\"parameters\": ([0-9]+)"))) return -1;
  return std::stoll(m[1]);
}

CliResult Convert(const std::string& model, const fs::path& out,
                  std::vector<std::string> extra = {}, const std::string& shape = "1x3x224x224") {
  std::vector<std::string> args = {"convert",    ModelPath(model), "-o",
                                   out.string(), "--input",        "x:" + shape};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunProgram(TS2COREML_CLI, args);
}

mil::Package Read(const fs::path& path) {
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(path);
  EXPECT_TRUE(pkg.ok()) << pkg.status();
  if (!pkg.ok()) return {};
  absl::Status valid = mil::ValidatePackage(*pkg);
  EXPECT_TRUE(valid.ok()) << valid;
  // Every op fits Core ML's opset for the package's own opset (what `inspect --check` reports).
  absl::StatusOr<std::vector<mil::OpProblem>> problems = mil::CheckProgram(*pkg);
  EXPECT_TRUE(problems.ok()) << problems.status();
  if (problems.ok()) {
    for (const mil::OpProblem& p : *problems) ADD_FAILURE() << p.op << " is " << p.message;
  }
  return *std::move(pkg);
}

const milspec::Block& MainBlockOf(const mil::Package& pkg) {
  absl::StatusOr<const milspec::Block*> block = mil::MainBlock(pkg);
  EXPECT_TRUE(block.ok()) << block.status();
  static const milspec::Block empty;
  return block.ok() ? **block : empty;
}

milspec::DataType OutputDtype(const milspec::Operation& op) {
  return op.outputs(0).type().tensortype().datatype();
}

/// dtype of every var defined in the main block, and the const op defining each const var.
struct VarTable {
  std::map<std::string, milspec::DataType> dtype;
  std::map<std::string, const milspec::Operation*> consts;
};

VarTable Vars(const mil::Package& pkg) {
  VarTable t;
  const milspec::Function& f = pkg.model.mlprogram().functions().at("main");
  for (const auto& in : f.inputs()) t.dtype[in.name()] = in.type().tensortype().datatype();
  for (const milspec::Operation& op : MainBlockOf(pkg).operations()) {
    for (const auto& out : op.outputs()) {
      t.dtype[out.name()] = out.type().tensortype().datatype();
      if (op.type() == "const") t.consts[out.name()] = &op;
    }
  }
  return t;
}

/// The const op bound to input `name` of `op`, or null.
const milspec::Operation* ConstInput(const VarTable& vars, const milspec::Operation& op,
                                     const std::string& name) {
  auto it = op.inputs().find(name);
  if (it == op.inputs().end() || it->second.arguments_size() != 1) return nullptr;
  auto c = vars.consts.find(it->second.arguments(0).name());
  return c == vars.consts.end() ? nullptr : c->second;
}

struct ModelCase {
  std::string name;
  int convs;
  int linears;
};

void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }

class ConvertModelTest : public ::testing::TestWithParam<std::tuple<ModelCase, std::string>> {};

TEST_P(ConvertModelTest, PackageIsCompleteValidAndInThePlannedPrecision) {
  const auto& [model, precision] = GetParam();
  const bool fp16 = precision == "fp16";
  TempDir dir;
  const fs::path out = dir / "model.mlpackage";
  CliResult r = Convert(model.name, out, {"--precision", precision});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("casts inserted"));
  EXPECT_THAT(r.output, HasSubstr("time: load"));

  // Structure.
  EXPECT_TRUE(fs::is_regular_file(out / "Manifest.json"));
  EXPECT_TRUE(fs::is_regular_file(out / "Data/com.apple.CoreML/model.mlmodel"));
  EXPECT_TRUE(fs::is_regular_file(out / "Data/com.apple.CoreML/weights/weight.bin"));
  mil::Package pkg = Read(out);
  EXPECT_EQ(pkg.model.specificationversion(), 7);
  ASSERT_TRUE(pkg.model.has_mlprogram());
  const milspec::Function& main = pkg.model.mlprogram().functions().at("main");
  EXPECT_EQ(main.opset(), "CoreML6");
  ASSERT_EQ(pkg.model.description().input_size(), 1);
  EXPECT_EQ(pkg.model.description().input(0).name(), "x");
  EXPECT_EQ(pkg.model.description().input(0).type().multiarraytype().datatype(),
            spec::ArrayFeatureType::FLOAT32);
  ASSERT_EQ(pkg.model.description().output_size(), 1);
  EXPECT_EQ(pkg.model.description().output(0).name(), "output_0");
  EXPECT_EQ(pkg.model.description().output(0).type().multiarraytype().datatype(),
            spec::ArrayFeatureType::FLOAT32);

  // Op histogram: batch_norm folded into conv; dropout removed.
  absl::StatusOr<std::map<std::string, int>> hist = mil::OpTypeHistogram(pkg);
  ASSERT_TRUE(hist.ok()) << hist.status();
  EXPECT_EQ((*hist)["conv"], model.convs);
  EXPECT_EQ((*hist)["linear"], model.linears);
  EXPECT_EQ(hist->count("batch_norm"), 0u);
  EXPECT_EQ((*hist)["cast"], fp16 ? 2 : 0);

  // Dtypes: under fp16 everything computes in fp16 but the cast back to the fp32 output; under
  // fp32 nothing is fp16. Every conv/linear weight is a blob const in the compute dtype.
  const VarTable vars = Vars(pkg);
  const milspec::DataType compute = fp16 ? milspec::FLOAT16 : milspec::FLOAT32;
  int fp32_ops = 0;
  int weights_checked = 0;
  for (const milspec::Operation& op : MainBlockOf(pkg).operations()) {
    if (op.type() == "const") continue;
    const milspec::DataType d = OutputDtype(op);
    if (d == milspec::FLOAT32) ++fp32_ops;
    if (op.type() != "cast") {
      EXPECT_EQ(d, compute) << op.type() << " " << op.outputs(0).name();
    }
    if (op.type() == "conv" || op.type() == "linear") {
      const milspec::Operation* w = ConstInput(vars, op, "weight");
      ASSERT_NE(w, nullptr) << op.outputs(0).name();
      const milspec::Value& val = w->attributes().at("val");
      EXPECT_EQ(val.type().tensortype().datatype(), compute);
      EXPECT_TRUE(val.has_blobfilevalue());
      ++weights_checked;
    }
  }
  EXPECT_EQ(weights_checked, model.convs + model.linears);
  EXPECT_EQ(fp32_ops,
            fp16 ? 1 : static_cast<int>(MainBlockOf(pkg).operations_size()) - (*hist)["const"]);

  // weight.bin holds the parameters once, in the compute dtype, within 1%.
  const double expected = static_cast<double>(ParameterCount(model.name)) * (fp16 ? 2 : 4);
  ASSERT_GT(expected, 0);
  const double actual = static_cast<double>(fs::file_size(pkg.weights_path));
  EXPECT_NEAR(actual / expected, 1.0, 0.01) << actual << " vs " << expected;
}

INSTANTIATE_TEST_SUITE_P(
    Torchvision, ConvertModelTest,
    ::testing::Combine(::testing::Values(ModelCase{"mobilenet_v3_large", 62, 2},
                                         ModelCase{"mobilenet_v2", 52, 1},
                                         ModelCase{"resnet18", 20, 1}),
                       ::testing::Values("fp16", "fp32")),
    [](const auto& info) { return std::get<0>(info.param).name + "_" + std::get<1>(info.param); });

TEST(ConvertE2E, FieldNumbersMatchTheFormatIndependentlyOfOurProto) {
  TempDir dir;
  const fs::path out = dir / "m.mlpackage";
  ASSERT_EQ(Convert("mobilenet_v3_large", out).exit_code, 0);
  const std::string model_file = (out / "Data/com.apple.CoreML/model.mlmodel").string();
  CliResult r = RunProgram(
      "/bin/sh", {"-c", std::string(TS2COREML_PROTOC) + " --decode_raw < '" + model_file + "'"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string& raw = r.output;
  // Model.specificationVersion = 1 (iOS16 -> 7); Model.mlProgram = 502; Program.version = 1.
  EXPECT_TRUE(std::regex_search(raw, std::regex("^1: 7\n"))) << raw.substr(0, 400);
  EXPECT_TRUE(std::regex_search(raw, std::regex("\n502 \\{\n  1: 1\n")));
  // Program.functions = 2 (map entry: key 1 "main", value 2 = Function with opset = 2).
  EXPECT_TRUE(std::regex_search(raw, std::regex("\n  2 \\{\n    1: \"main\"\n    2 \\{")));
  EXPECT_THAT(raw, HasSubstr("2: \"CoreML6\""));
  // ModelDescription.input(1) -> FeatureDescription.name(1) "x", type(3).multiArrayType(5) with
  // dataType(2) FLOAT32 = 65568.
  EXPECT_TRUE(std::regex_search(raw, std::regex("\n2 \\{\n  1 \\{\n    1: \"x\"\n    3 \\{\n"
                                                "      5 \\{\n")));
  EXPECT_THAT(raw, HasSubstr("2: 65568"));
  // Ops carry their type in field 1: a conv and a cast are present.
  EXPECT_THAT(raw, HasSubstr("1: \"conv\""));
  EXPECT_THAT(raw, HasSubstr("1: \"cast\""));
  // BlobFileValue.fileName = 1 inside Value.blobFileValue = 5.
  EXPECT_THAT(raw, HasSubstr("1: \"@model_path/weights/weight.bin\""));
}

TEST(ConvertE2E, HalfModelConvertsInFp16WithoutDtypeErrors) {
  TempDir dir;
  const fs::path out = dir / "half.mlpackage";
  CliResult r = Convert("mobilenet_v3_large_half", out, {"--precision", "fp16"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("error")));
  mil::Package pkg = Read(out);
  const VarTable vars = Vars(pkg);
  int convs = 0;
  for (const milspec::Operation& op : MainBlockOf(pkg).operations()) {
    if (op.type() != "conv") continue;
    ++convs;
    EXPECT_EQ(OutputDtype(op), milspec::FLOAT16);
    for (const char* param : {"weight", "bias"}) {
      const milspec::Operation* c = ConstInput(vars, op, param);
      ASSERT_NE(c, nullptr) << param;
      EXPECT_EQ(c->attributes().at("val").type().tensortype().datatype(), milspec::FLOAT16);
    }
  }
  EXPECT_EQ(convs, 62);
  // The same file converts in fp32 too: half weights are widened when written.
  CliResult r32 =
      Convert("mobilenet_v3_large_half", dir / "half32.mlpackage", {"--precision", "fp32"});
  ASSERT_EQ(r32.exit_code, 0) << r32.output;
}

/// batch_norm after a concat cannot be folded: its epsilon policy shows.
TEST(ConvertE2E, BatchNormEpsilonIsFp16WithAWarningOnIos16AndFp32OnIos17) {
  TempDir dir;
  for (const std::string target : {"ios16", "ios17"}) {
    const fs::path out = dir / (target + ".mlpackage");
    CliResult r = Convert("bn_after_concat", out, {"--target", target}, "1x3x32x32");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    mil::Package pkg = Read(out);
    EXPECT_EQ(pkg.model.specificationversion(), target == "ios16" ? 7 : 8);
    const VarTable vars = Vars(pkg);
    const milspec::DataType params = target == "ios16" ? milspec::FLOAT16 : milspec::FLOAT32;
    int bns = 0;
    for (const milspec::Operation& op : MainBlockOf(pkg).operations()) {
      if (op.type() == "softmax") EXPECT_EQ(OutputDtype(op), milspec::FLOAT32);
      if (op.type() != "batch_norm") continue;
      ++bns;
      EXPECT_EQ(OutputDtype(op), milspec::FLOAT16);
      EXPECT_EQ(vars.dtype.at(op.inputs().at("x").arguments(0).name()), milspec::FLOAT16);
      for (const char* p : {"mean", "variance", "gamma", "beta", "epsilon"}) {
        const milspec::Operation* c = ConstInput(vars, op, p);
        ASSERT_NE(c, nullptr) << p;
        EXPECT_EQ(c->attributes().at("val").type().tensortype().datatype(), params) << p;
      }
    }
    EXPECT_EQ(bns, 1);
    if (target == "ios16") {
      EXPECT_THAT(r.output, HasSubstr("eps 1e-05 is not representable in fp16"));
    } else {
      EXPECT_THAT(r.output, Not(HasSubstr("not representable")));
    }
    // Softmax declared needs-FP32: computed in fp32 between casts.
    EXPECT_THAT(r.output, HasSubstr("needs_fp32_compute"));
  }
}

TEST(ConvertE2E, WithoutThePluginFolderConversionListsTheMissingOps) {
  // A copy of the CLI and its LibTorch commands' library in a tree without
  // lib/ts2coreml/plugins: the built-ins really are plugins.
  TempDir dir;
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "lib/ts2coreml");
  const fs::path cli = dir / "bin/ts2coreml";
  fs::copy_file(TS2COREML_CLI, cli);
  fs::copy_file(
      fs::path(TS2COREML_CLI).parent_path() / "../lib/ts2coreml/libts2coreml_torch_commands.so",
      dir / "lib/ts2coreml/libts2coreml_torch_commands.so");
  const fs::path out = dir / "m.mlpackage";
  CliResult r = RunProgram(cli.string(), {"convert", ModelPath("resnet18"), "-o", out.string(),
                                          "--input", "x:1x3x224x224"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  for (const char* op : {"aten::_convolution", "aten::relu_", "aten::max_pool2d",
                         "aten::adaptive_avg_pool2d", "aten::linear", "aten::flatten"}) {
    EXPECT_THAT(r.output, HasSubstr(op));
  }
  EXPECT_FALSE(fs::exists(out));
  // Naming the real plugin folder brings them back.
  CliResult again =
      RunProgram(cli.string(),
                 {"convert", ModelPath("resnet18"), "-o", out.string(), "--input", "x:1x3x224x224",
                  "--plugin-dir",
                  (fs::path(TS2COREML_CLI).parent_path() / "../lib/ts2coreml/plugins").string()});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST(ConvertE2E, ExistingOutputIsReplacedOnlyWithForce) {
  TempDir dir;
  const fs::path out = dir / "m.mlpackage";
  fs::create_directories(out);
  std::ofstream(out / "keep.txt") << "mine";
  std::ofstream(out / "Manifest.json") << "{}";  // an ML package: --force may replace it
  CliResult r = Convert("resnet18", out);
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--force"));
  EXPECT_TRUE(fs::exists(out / "keep.txt"));
  CliResult forced = Convert("resnet18", out, {"--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_FALSE(fs::exists(out / "keep.txt"));
  Read(out);
  // Nothing but the package is left in the folder (no temporary or old copies).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(ConvertE2E, BadInputSpecsFailClearlyAndWriteNothing) {
  TempDir dir;
  const fs::path out = dir / "m.mlpackage";
  CliResult wrong_name = RunProgram(TS2COREML_CLI, {"convert", ModelPath("resnet18"), "-o",
                                                    out.string(), "--input", "y:1x3x224x224"});
  EXPECT_EQ(wrong_name.exit_code, 5) << wrong_name.output;
  EXPECT_THAT(wrong_name.output, HasSubstr("--input y names no forward() argument"));
  CliResult missing =
      RunProgram(TS2COREML_CLI, {"convert", ModelPath("resnet18"), "-o", out.string()});
  EXPECT_EQ(missing.exit_code, 5) << missing.output;
  CliResult malformed = RunProgram(TS2COREML_CLI, {"convert", ModelPath("resnet18"), "-o",
                                                   out.string(), "--input", "x:1x3xfoo"});
  EXPECT_EQ(malformed.exit_code, 5) << malformed.output;
  EXPECT_THAT(malformed.output, HasSubstr("'foo' is not a number"));
  CliResult no_file = RunProgram(TS2COREML_CLI, {"convert", (dir / "nope.pt").string(), "-o",
                                                 out.string(), "--input", "x:1x3x224x224"});
  EXPECT_EQ(no_file.exit_code, 4) << no_file.output;
  EXPECT_THAT(no_file.output, HasSubstr("nope.pt: no such file"));
  EXPECT_FALSE(fs::exists(out));
  for (const CliResult* r : {&wrong_name, &missing, &malformed, &no_file}) {
    // One line, naming the problem.
    EXPECT_EQ(std::count(r->output.begin(), r->output.end(), '\n'), 1) << r->output;
  }
}

TEST(ConvertE2E, SameInputGivesByteIdenticalPackages) {
  TempDir dir;
  ASSERT_EQ(Convert("mobilenet_v2", dir / "a.mlpackage").exit_code, 0);
  ASSERT_EQ(Convert("mobilenet_v2", dir / "b.mlpackage").exit_code, 0);
  EXPECT_EQ(testing::ReadTree(dir / "a.mlpackage"), testing::ReadTree(dir / "b.mlpackage"));
}

TEST(ConvertE2E, Fp16InputsAndOutputsNeedIos16) {
  TempDir dir;
  CliResult r =
      Convert("resnet18", dir / "a.mlpackage", {"--io-dtype", "fp16", "--target", "ios15"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  CliResult ok = Convert("resnet18", dir / "b.mlpackage", {"--io-dtype", "fp16"});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  mil::Package pkg = Read(dir / "b.mlpackage");
  EXPECT_EQ(pkg.model.description().input(0).type().multiarraytype().datatype(),
            spec::ArrayFeatureType::FLOAT16);
  absl::StatusOr<std::map<std::string, int>> hist = mil::OpTypeHistogram(pkg);
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ(hist->count("cast"), 0u);  // fp16 end to end: no casts at all
}

}  // namespace
}  // namespace ts2coreml
