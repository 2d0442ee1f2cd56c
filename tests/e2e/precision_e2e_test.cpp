// Coverage, inspect and keep-FP32 rules end to end: every unsupported op at once, planned dtypes
// equal to what convert writes, reasons recorded in packages, rules that cast exactly where needed.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/json.h"
#include "core/mil/package_reader.h"
#include "core/mil/package_writer.h"
#include "core/mil/validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
namespace milspec = CoreML::Specification::MILSpec;
using testing::CliResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunProgram;
using testing::TempDir;
using ::testing::UnorderedElementsAre;

std::string PrecisionModel(const std::string& name) {
  return (fs::path(TS2COREML_PRECISION_MODELS_DIR) / (name + ".pt")).string();
}
std::string TestModel(const std::string& name) {
  return (fs::path(TS2COREML_TEST_MODELS_DIR) / (name + ".pt")).string();
}

json::Value ParseJson(const std::string& text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << text.substr(0, 500);
  return v.ok() ? *v : json::Value();
}

const json::Value& Member(const json::Value& v, const std::string& key) {
  static const json::Value kNull;
  const json::Value* m = v.Find(key);
  EXPECT_NE(m, nullptr) << "missing key " << key;
  return m ? *m : kNull;
}

std::string DtypeName(milspec::DataType d) {
  switch (d) {
    case milspec::FLOAT16:
      return "fp16";
    case milspec::FLOAT32:
      return "fp32";
    case milspec::INT32:
      return "int32";
    case milspec::BOOL:
      return "bool";
    default:
      return "other";
  }
}

struct Converted {
  CliResult convert;
  CliResult coverage;
  json::Value coverage_json;
  mil::Package package;
};

Converted ConvertAndCover(const std::string& model, const std::string& input,
                          const std::vector<std::string>& flags, const fs::path& out) {
  Converted c;
  std::vector<std::string> args = {"convert", model, "-o",     out.string(),
                                   "--input", input, "--force"};
  args.insert(args.end(), flags.begin(), flags.end());
  c.convert = RunProgram(TS2COREML_CLI, args);
  std::vector<std::string> cov = {"coverage", model, "--input", input, "--json"};
  cov.insert(cov.end(), flags.begin(), flags.end());
  c.coverage = RunProgram(TS2COREML_CLI, cov);
  // stdout and stderr are interleaved; the JSON document is all there is on success.
  c.coverage_json = ParseJson(c.coverage.output);
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(out);
  EXPECT_TRUE(pkg.ok()) << pkg.status() << c.convert.output;
  if (pkg.ok()) {
    // Every op fits Core ML's opset for the package's own opset (what `inspect --check` reports).
    absl::StatusOr<std::vector<mil::OpProblem>> problems = mil::CheckProgram(*pkg);
    EXPECT_TRUE(problems.ok()) << problems.status();
    if (problems.ok()) {
      for (const mil::OpProblem& p : *problems) ADD_FAILURE() << p.op << " is " << p.message;
    }
    c.package = *std::move(pkg);
  }
  return c;
}

/// Every MIL var of the main block and its dtype.
std::map<std::string, milspec::DataType> VarDtypes(const mil::Package& pkg) {
  std::map<std::string, milspec::DataType> dtypes;
  absl::StatusOr<const milspec::Block*> block = mil::MainBlock(pkg);
  if (!block.ok()) return dtypes;
  for (const milspec::Operation& op : (*block)->operations()) {
    for (const auto& o : op.outputs()) dtypes[o.name()] = o.type().tensortype().datatype();
  }
  return dtypes;
}

json::Value Metadata(const mil::Package& pkg, const std::string& key) {
  const auto& ud = pkg.model.description().metadata().userdefined();
  auto it = ud.find(key);
  EXPECT_NE(it, ud.end()) << key;
  return it == ud.end() ? json::Value() : ParseJson(it->second);
}

/// The casts of a package: (input var, output dtype) for each, and whether any reads a cast.
struct CastFacts {
  int count = 0;           ///< casts of runtime values
  int weight_upcasts = 0;  ///< casts of constants (weights stored fp16 for an fp32 op)
  std::set<std::pair<std::string, std::string>> pairs;
  bool cast_of_cast = false;
};

CastFacts Casts(const mil::Package& pkg) {
  CastFacts f;
  absl::StatusOr<const milspec::Block*> block = mil::MainBlock(pkg);
  if (!block.ok()) return f;
  std::set<std::string> cast_outputs, const_outputs;
  for (const milspec::Operation& op : (*block)->operations()) {
    if (op.type() == "const") const_outputs.insert(op.outputs(0).name());
    if (op.type() != "cast") continue;
    const std::string x = op.inputs().at("x").arguments(0).name();
    ++(const_outputs.count(x) != 0 ? f.weight_upcasts : f.count);
    f.cast_of_cast |= cast_outputs.count(x) != 0;
    f.pairs.insert({x, DtypeName(op.outputs(0).type().tensortype().datatype())});
    cast_outputs.insert(op.outputs(0).name());
  }
  return f;
}

TEST(CoverageE2E, ThreeUnsupportedOpsAreReportedAtOnceWithLocations) {
  const std::string model = PrecisionModel("three_unsupported");
  CliResult text = RunProgram(TS2COREML_CLI, {"coverage", model, "--input", "x:1x8"});
  EXPECT_EQ(text.exit_code, 3) << text.output;
  for (const char* op : {"aten::lgamma", "aten::erfinv", "aten::digamma"}) {
    EXPECT_THAT(text.output, HasSubstr(absl::StrCat(op, " at ")));
  }
  EXPECT_THAT(text.output, HasSubstr("no lowering found"));
  CliResult js = RunProgram(TS2COREML_CLI, {"coverage", model, "--input", "x:1x8", "--json"});
  EXPECT_EQ(js.exit_code, 3);
  const json::Value report = ParseJson(js.output);
  EXPECT_FALSE(Member(report, "covered").boolean);
  std::vector<std::string> kinds, sources;
  for (const json::Value& u : Member(report, "unsupported").array) {
    kinds.push_back(Member(u, "kind").string);
    sources.push_back(Member(u, "source").string);
    EXPECT_THAT(Member(u, "source").string, HasSubstr("make_precision_models.py:"));
    EXPECT_FALSE(Member(u, "hint").string.empty());
  }
  EXPECT_THAT(kinds, UnorderedElementsAre("aten::lgamma", "aten::erfinv", "aten::digamma"));
  EXPECT_EQ(std::set<std::string>(sources.begin(), sources.end()).size(), 3u);
  // The same model fails to convert with exit 3 listing all three, and writes nothing.
  TempDir dir;
  CliResult conv = RunProgram(
      TS2COREML_CLI, {"convert", model, "-o", (dir / "m.mlpackage").string(), "--input", "x:1x8"});
  EXPECT_EQ(conv.exit_code, 3);
  for (const char* op : {"aten::lgamma", "aten::erfinv", "aten::digamma"}) {
    EXPECT_THAT(conv.output, HasSubstr(op));
  }
  EXPECT_FALSE(fs::exists(dir / "m.mlpackage"));
}

TEST(CoverageE2E, CoverageWithoutShapesStillFindsLoweringsAndGaps) {
  CliResult r = RunProgram(TS2COREML_CLI, {"coverage", PrecisionModel("three_unsupported")});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("shapes unknown"));
  EXPECT_THAT(r.output, HasSubstr("aten::lgamma"));
  CliResult ok = RunProgram(TS2COREML_CLI, {"coverage", TestModel("resnet18")});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  // Without shapes there is no plan: the fp16 share is unknown, not "0 of 0".
  EXPECT_THAT(ok.output, HasSubstr("fp16: share unknown without --input shapes"));
  EXPECT_THAT(ok.output, Not(HasSubstr("0 of 0")));
}

struct PlanCase {
  std::string model;
  std::string input;
  std::vector<std::string> flags;
};

void PrintTo(const PlanCase& c, std::ostream* os) {
  *os << fs::path(c.model).stem().string();
  for (const std::string& f : c.flags) *os << " " << f;
}

class PlannedEqualsWrittenTest : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlannedEqualsWrittenTest, CoverageDtypesAreTheDtypesConvertWrites) {
  const PlanCase& c = GetParam();
  TempDir dir;
  Converted r = ConvertAndCover(c.model, c.input, c.flags, dir / "m.mlpackage");
  ASSERT_EQ(r.convert.exit_code, 0) << r.convert.output;
  ASSERT_EQ(r.coverage.exit_code, 0) << r.coverage.output;
  // TorchScript value -> planned compute dtype, from coverage.
  std::map<std::string, std::string> planned;
  for (const json::Value& n : Member(r.coverage_json, "nodes").array) {
    if (Member(n, "decision").string != "lowered") continue;
    for (const json::Value& o : Member(n, "outputs").array) {
      planned[o.string] = Member(n, "compute_dtype").string;
    }
  }
  ASSERT_FALSE(planned.empty());
  // MIL var -> TorchScript value, from the package's source map; the var's dtype is written.
  const std::map<std::string, milspec::DataType> dtypes = VarDtypes(r.package);
  const json::Value source_map = Metadata(r.package, "com.github.ts2coreml.source_map");
  int compared = 0;
  for (const auto& [var, entry] : source_map.object) {
    const std::string value = Member(entry, "value").string;
    // List outputs map each element ("v_0"); their node lists the list value.
    auto p = planned.find(value);
    if (p == planned.end()) p = planned.find(value.substr(0, value.rfind('_')));
    ASSERT_NE(p, planned.end()) << value;
    ASSERT_TRUE(dtypes.count(var)) << var;
    const std::string written = DtypeName(dtypes.at(var));
    if (written == "fp16" || written == "fp32") {
      EXPECT_EQ(written, p->second) << var << " (" << value << ")";
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Models, PlannedEqualsWrittenTest,
    ::testing::Values(
        PlanCase{TestModel("mobilenet_v3_large"), "x:1x3x224x224", {}},
        PlanCase{TestModel("bn_after_concat"), "x:1x3x32x32", {"--target", "ios17"}},
        PlanCase{PrecisionModel("precision_rules"), "x:1x6x16", {}},
        PlanCase{PrecisionModel("precision_rules"), "x:1x6x16", {"--keep-fp32", "enc.layers.0"}},
        PlanCase{PrecisionModel("precision_rules"), "x:1x6x16", {"--keep-fp32", "re:.*attn.*"}},
        PlanCase{PrecisionModel("precision_rules"), "x:1x6x16", {"--fp16-all"}},
        PlanCase{PrecisionModel("precision_rules"), "x:1x6x16", {"--precision", "fp32"}}));

TEST(InspectE2E, NamesTheRecordedReasonsOnOurPackages) {
  TempDir dir;
  const fs::path out = dir / "bn.mlpackage";
  ASSERT_EQ(RunProgram(TS2COREML_CLI, {"convert", TestModel("bn_after_concat"), "-o", out.string(),
                                       "--input", "x:1x3x32x32"})
                .exit_code,
            0);
  CliResult text = RunProgram(TS2COREML_CLI, {"inspect", out.string()});
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("precision: Mixed (Float16, Float32)"));
  EXPECT_THAT(text.output, HasSubstr("Float32 from: softmax"));
  EXPECT_THAT(text.output, HasSubstr("fp16/fp32 transitions: 2"));
  CliResult js = RunProgram(TS2COREML_CLI, {"inspect", out.string(), "--json"});
  ASSERT_EQ(js.exit_code, 0);
  const json::Value r = ParseJson(js.output);
  EXPECT_EQ(Member(r, "precision_label").string, "Mixed (Float16, Float32)");
  EXPECT_TRUE(Member(r, "written_by_ts2coreml").boolean);
  EXPECT_EQ(Member(r, "transitions").number, 2);
  const auto& fp32 = Member(r, "fp32_ops").array;
  ASSERT_EQ(fp32.size(), 1u);
  EXPECT_EQ(Member(fp32[0], "type").string, "softmax");
  EXPECT_EQ(Member(fp32[0], "torch_op").string, "aten::softmax.int");
  EXPECT_THAT(Member(fp32[0], "reason").string, HasSubstr("needs_fp32_compute"));
  for (const json::Value& c : Member(r, "casts").array) {
    EXPECT_FALSE(Member(c, "reason").string.empty());
  }
  EXPECT_GT(Member(Member(Member(r, "weight_bytes"), "blob"), "fp16").number, 0);

  // An fp32 package is labelled Float32 and has no transitions.
  const fs::path out32 = dir / "bn32.mlpackage";
  ASSERT_EQ(
      RunProgram(TS2COREML_CLI, {"convert", TestModel("bn_after_concat"), "-o", out32.string(),
                                 "--input", "x:1x3x32x32", "--precision", "fp32"})
          .exit_code,
      0);
  const json::Value r32 =
      ParseJson(RunProgram(TS2COREML_CLI, {"inspect", out32.string(), "--json"}).output);
  EXPECT_EQ(Member(r32, "precision_label").string, "Float32");
  EXPECT_EQ(Member(r32, "transitions").number, 0);
}

// The encoder's layer_norms (decomposed from the fused layer) compute in fp32 (their lowering
// needs it) but their weights are stored fp16: weight.bin holds no fp32 bytes, and inspect
// reports the weights' casts as casts of constants, not as fp16/fp32 transitions.
TEST(InspectE2E, WeightUpcastsAreCastsOfConstantsNotTransitions) {
  TempDir dir;
  const fs::path out = dir / "enc.mlpackage";
  CliResult c = RunProgram(TS2COREML_CLI, {"convert", TestModel("transformer_encoder_fused"), "-o",
                                           out.string(), "--input", "x:1x32x128"});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_THAT(c.output, HasSubstr("weights fp16 -> fp32  (weight stored fp16; "
                                  "aten::layer_norm computes in fp32"));
  CliResult js = RunProgram(TS2COREML_CLI, {"inspect", out.string(), "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.output;
  const json::Value r = ParseJson(js.output);
  int of_constant = 0, runtime = 0;
  for (const json::Value& cast : Member(r, "casts").array) {
    (Member(cast, "of_constant").boolean ? of_constant : runtime) += 1;
    if (Member(cast, "of_constant").boolean) {
      EXPECT_EQ(Member(cast, "from").string, "fp16");
      EXPECT_EQ(Member(cast, "to").string, "fp32");
    }
  }
  EXPECT_GT(of_constant, 0);
  EXPECT_EQ(Member(r, "transitions").number, runtime);
  const json::Value& blob = Member(Member(r, "weight_bytes"), "blob");
  EXPECT_GT(Member(blob, "fp16").number, 0);
  EXPECT_EQ(blob.Find("fp32"), nullptr) << "fp32 weights in weight.bin";
}

TEST(InspectE2E, MalformedPackageIsAPackageError) {
  TempDir dir;
  fs::create_directories(dir / "bad.mlpackage");
  CliResult r = RunProgram(TS2COREML_CLI, {"inspect", (dir / "bad.mlpackage").string()});
  EXPECT_EQ(r.exit_code, 8) << r.output;
  EXPECT_THAT(r.output, HasSubstr("bad.mlpackage"));
}

TEST(InspectE2E, CheckPassesOurPackagesAndListsEveryProblemOfABadOne) {
  TempDir dir;
  // A package of ours: valid against its own opset, at every target.
  for (const char* target : {"ios15", "ios16", "ios17"}) {
    const fs::path out = dir / (std::string(target) + ".mlpackage");
    CliResult conv =
        RunProgram(TS2COREML_CLI, {"convert", TestModel("bn_after_concat"), "-o", out.string(),
                                   "--input", "x:1x3x32x32", "--target", target, "--quiet"});
    ASSERT_EQ(conv.exit_code, 0) << conv.output;
    CliResult r = RunProgram(TS2COREML_CLI, {"inspect", out.string(), "--check"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(": valid: "));
  }
  // A hand-built invalid program (the writer does not check ops): every problem, exit 1.
  mil::Function f("CoreML6");
  const mil::VarId x = f.AddInput("x", {mil::DType::kFloat16, {1, 4}});
  const float two = 2;
  const mil::VarId k = f.AddConst("k", mil::ConstValue::Float32({}, &two));
  const mil::VarId m =
      (*f.AddOp("mul", "m", {{"x", {x}}, {"y", {k}}}, {{mil::DType::kFloat16, {1, 4}}}))[0];
  const mil::VarId r = (*f.AddOp("rsqr", "r", {{"x", {m}}}, {{mil::DType::kFloat16, {1, 4}}}))[0];
  ASSERT_TRUE(f.AddOutput(r).ok());
  mil::ModelSpec spec;
  spec.inputs = {{"x", mil::DType::kFloat16, {1, 4}}};
  spec.outputs = {{f.var(r).name, mil::DType::kFloat16, {1, 4}}};
  const fs::path bad = dir / "bad_ops.mlpackage";
  ASSERT_TRUE(mil::WritePackageDir(spec, f, bad).ok());
  CliResult text = RunProgram(TS2COREML_CLI, {"inspect", bad.string(), "--check"});
  EXPECT_EQ(text.exit_code, 1) << text.output;
  EXPECT_THAT(text.output,
              AllOf(HasSubstr("op 'm_op' is mul with input 'y' of dtype fp32 where 'x' is fp16"),
                    HasSubstr("op 'r_op' is rsqr, which is not an op of Core ML's opset"),
                    HasSubstr("invalid: 2 problem(s)")));
  CliResult js = RunProgram(TS2COREML_CLI, {"inspect", bad.string(), "--check", "--json"});
  EXPECT_EQ(js.exit_code, 1) << js.output;
  const json::Value doc = ParseJson(js.output);
  EXPECT_FALSE(Member(doc, "valid").boolean);
  EXPECT_EQ(Member(doc, "opset").string, "CoreML6");
  EXPECT_EQ(Member(doc, "problems").array.size(), 2u);
  // Unreadable: exit 8.
  fs::create_directories(dir / "empty.mlpackage");
  CliResult none =
      RunProgram(TS2COREML_CLI, {"inspect", (dir / "empty.mlpackage").string(), "--check"});
  EXPECT_EQ(none.exit_code, 8) << none.output;
}

struct RuleCase {
  std::string name;
  std::vector<std::string> flags;
  int casts;           ///< derived by hand from the model's graph (see make_precision_models.py)
  int weight_upcasts;  ///< weights stored fp16 for an op computing in fp32
  /// (TorchScript op, reason fragment) of every MIL op computing in fp32.
  std::multiset<std::pair<std::string, std::string>> fp32;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

class KeepFp32RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(KeepFp32RuleTest, ProducesTheExpectedFp32OpsAndCastsAndNothingMore) {
  const RuleCase& c = GetParam();
  TempDir dir;
  Converted r =
      ConvertAndCover(PrecisionModel("precision_rules"), "x:1x6x16", c.flags, dir / "m.mlpackage");
  ASSERT_EQ(r.convert.exit_code, 0) << r.convert.output;
  const CastFacts casts = Casts(r.package);
  EXPECT_EQ(casts.count, c.casts) << r.convert.output;
  EXPECT_EQ(casts.weight_upcasts, c.weight_upcasts) << r.convert.output;
  EXPECT_EQ(casts.pairs.size(), static_cast<size_t>(casts.count + casts.weight_upcasts))
      << "a value cast twice";
  EXPECT_FALSE(casts.cast_of_cast) << "a cast reads a cast";
  std::multiset<std::pair<std::string, std::string>> fp32;
  const json::Value recorded = Metadata(r.package, "com.github.ts2coreml.fp32_ops");
  for (const auto& [var, entry] : recorded.object) {
    const std::string reason = Member(entry, "reason").string;
    std::string fragment = reason.find("--keep-fp32") != std::string::npos ? "--keep-fp32"
                           : reason.find("needs_fp32_compute") != std::string::npos
                               ? "needs_fp32_compute"
                               : reason;
    fp32.insert({Member(entry, "op").string, fragment});
  }
  EXPECT_EQ(fp32, c.fp32);
}

using P = std::pair<std::string, std::string>;
const P kLnPolicy{"aten::layer_norm", "needs_fp32_compute"};
const P kSoftmaxPolicy{"aten::softmax.int", "needs_fp32_compute"};
const P kLinearRule{"aten::linear", "--keep-fp32"};

INSTANTIATE_TEST_SUITE_P(
    Rules, KeepFp32RuleTest,
    ::testing::Values(
        // x->fp16, into each layer_norm, out of each layer_norm (one cast shared by its two
        // users), into the softmax; the softmax's fp32 output is the fp32 model output.
        // Weight upcasts: the layer_norms' gamma and beta, each one constant shared by both
        // blocks (TorchScript pools equal constants), stored fp16.
        RuleCase{"none", {}, 6, 2, {kLnPolicy, kLnPolicy, kSoftmaxPolicy}},
        // Every linear fp32: x needs no cast; each block casts its input for the residual add,
        // the attn output for relu, the add for mlp, mlp's output for the add, the add for
        // layer_norm: 5 per block.
        RuleCase{"by_kind",
                 {"--keep-fp32", "aten::linear"},
                 10,
                 2,
                 {kLnPolicy, kLnPolicy, kSoftmaxPolicy, kLinearRule, kLinearRule, kLinearRule,
                  kLinearRule, kLinearRule, kLinearRule}},
        // Block 0 entirely fp32: one cast into it, one out of it; block 1 as before. Block 0's
        // layer_norm reads the shared gamma and beta exact (--keep-fp32): no weight upcasts.
        RuleCase{"by_module_path",
                 {"--keep-fp32", "enc.layers.0"},
                 6,
                 0,
                 {{"aten::linear", "--keep-fp32"},
                  {"aten::linear", "--keep-fp32"},
                  {"aten::relu", "--keep-fp32"},
                  {"aten::add.Tensor", "--keep-fp32"},
                  {"aten::add.Tensor", "--keep-fp32"},
                  {"aten::layer_norm", "--keep-fp32"},
                  kLnPolicy,
                  kSoftmaxPolicy}},
        // Only the attn linears: a cast into and out of each, plus the policy casts.
        RuleCase{"by_regex",
                 {"--keep-fp32", "re:.*attn.*"},
                 9,
                 2,
                 {kLnPolicy, kLnPolicy, kSoftmaxPolicy, kLinearRule, kLinearRule}},
        // --fp16-all overrides the lowerings' wishes: only the I/O casts remain.
        RuleCase{"fp16_all", {"--fp16-all"}, 2, 0, {}}),
    [](const auto& info) { return info.param.name; });

// A rule that matches nothing is a usage error naming what is near it, never silently ignored.
TEST(KeepFp32RuleE2E, RulesThatMatchNothingNameTheNearestOpKindsAndModulePaths) {
  const struct {
    std::string model, input, rule, near;
  } cases[] = {
      {PrecisionModel("precision_rules"), "x:1x6x16", "enc.layrs.0", "enc.layers.0"},
      {PrecisionModel("precision_rules"), "x:1x6x16", "aten::layernorm", "aten::layer_norm"},
      {PrecisionModel("precision_rules"), "x:1x6x16", "re:.*conv.*", "re:REGEX"},
      // Tracing records aten::_convolution, not aten::conv2d.
      {TestModel("mobilenet_v3_small"), "x:1x3x224x224", "aten::conv2d", "aten::_convolution"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rule);
    CliResult r = RunProgram(TS2COREML_CLI, {"coverage", c.model, "--input", c.input, "--precision",
                                             "fp16", "--keep-fp32", c.rule});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.model));
    EXPECT_THAT(r.output, HasSubstr("--keep-fp32 " + c.rule + " matches no node of the model"));
    EXPECT_THAT(r.output, HasSubstr(c.near));
  }
}

// An op-kind rule matches the in-place variant the registry lowers it as (hardswish_).
TEST(KeepFp32RuleE2E, OpKindRulesMatchInPlaceVariants) {
  CliResult r = RunProgram(TS2COREML_CLI,
                           {"coverage", TestModel("mobilenet_v3_small"), "--input", "x:1x3x224x224",
                            "--precision", "fp16", "--keep-fp32", "aten::hardswish"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--keep-fp32 aten::hardswish"));
}

}  // namespace
}  // namespace ts2coreml
