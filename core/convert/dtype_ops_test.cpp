/// Tests of type ops (dtype_ops.h) through analysis, precision planning and lowering: a
/// conversion within a class is absorbed, one between classes is one planned cast with
/// PyTorch's semantics; and of the checks of forward() arguments used as integers.
#include "core/convert/dtype_ops.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/convert/analysis.h"
#include "core/convert/precision_plan.h"
#include "core/convert/program_emitter.h"
#include "core/convert/test_util.h"

namespace ts2coreml::core {
namespace {

using mil::DType;

constexpr int64_t kInt64Code = 4, kFloatCode = 6, kBoolCode = 11, kUint8Code = 0, kHalfCode = 5;

PrecisionOptions Options(Precision p) {
  PrecisionOptions o;
  o.precision = p;
  return o;
}

/// aten::to.dtype(self, dtype, non_blocking=False, copy=False, memory_format=None).
ValueId AddTo(Graph& g, ValueId x, int64_t code) {
  return g
      .AddNode(
          "aten::to", "dtype",
          {x, g.AddConstInt(code), g.AddConstBool(false), g.AddConstBool(false), g.AddConstNone()},
          1)
      .outputs[0];
}

ValueId AddInput(Graph& g, const std::string& name, InputDtype dtype, std::vector<int64_t> shape) {
  const ValueId id = g.AddInput(name, ClassOfInputDtype(dtype), std::move(shape));
  g.value(id).input_dtype = dtype;
  return id;
}

struct Lowered {
  Analysis analysis;
  PrecisionPlan plan;
  LoweredProgram program{mil::Function(""), {}, {}, {}, {}, {}, {}, 0};
};

Lowered Lower(Graph& g, Precision p) {
  Lowered out;
  out.analysis = Analyze(g, test::BuiltinRegistry());
  EXPECT_TRUE(out.analysis.ok()) << AnalysisStatus(out.analysis);
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(g, out.analysis, Options(p));
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return out;
  out.plan = *std::move(plan);
  absl::StatusOr<LoweredProgram> program = LowerGraph(g, out.analysis, out.plan);
  EXPECT_TRUE(program.ok()) << program.status();
  if (program.ok()) out.program = *std::move(program);
  return out;
}

std::vector<std::string> OpTypes(const mil::Function& f) {
  std::vector<std::string> types;
  for (const mil::Operation& op : f.ops()) {
    if (op.type != "const") types.push_back(op.type);
  }
  return types;
}

TEST(DtypeOpsTest, FloatToFloatIsAbsorbedIntoThePlan) {
  for (int64_t code : {kFloatCode, kHalfCode, int64_t{7}}) {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
    const ValueId y = test::AddRelu(g, AddTo(g, x, code));
    g.AddOutput("y", y);
    Lowered l = Lower(g, Precision::kFp16);
    EXPECT_EQ(l.analysis.nodes[0].decision, NodeDecision::kFolded) << code;
    // .float() under fp16 does not force fp32: relu computes in fp16 between the I/O casts.
    EXPECT_EQ(l.plan.nodes[1].compute, DType::kFloat16) << code;
    EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"cast", "relu", "cast"})) << code;
  }
}

TEST(DtypeOpsTest, IntToFloatIsOnePlannedCastBecauseTheModelConvertsDtype) {
  Graph g;
  const ValueId ids = AddInput(g, "ids", InputDtype::kInt64, {2, 3});
  const ValueId f = AddTo(g, ids, kFloatCode);
  g.AddOutput("y", test::AddRelu(g, f));
  Lowered l = Lower(g, Precision::kFp16);
  EXPECT_EQ(l.analysis.nodes[0].decision, NodeDecision::kLowered);
  EXPECT_EQ(l.plan.produced.at(ids), DType::kInt32) << "int64 crosses as int32";
  const PlannedCast* c = l.plan.FindCast(ids, DType::kFloat16);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->from, DType::kInt32);
  EXPECT_EQ(c->reason, kModelConvertsDtype);
  ASSERT_EQ(l.program.inputs.size(), 1u);
  EXPECT_EQ(l.program.inputs[0].dtype, DType::kInt32);
  EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"cast", "relu", "cast"}));
  bool warned = false;
  for (const std::string& w : l.plan.warnings) {
    warned |= w ==
              "model input 'ids' (int64) crosses the Core ML boundary as int32: Core ML "
              "model inputs have no int64";
  }
  EXPECT_TRUE(warned);
}

TEST(DtypeOpsTest, FloatToIntTruncatesTowardZeroBeforeTheCast) {
  for (Precision p : {Precision::kFp16, Precision::kFp32}) {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
    g.AddOutput("n", AddTo(g, test::AddRelu(g, x), kInt64Code));
    Lowered l = Lower(g, p);
    const DType f = p == Precision::kFp16 ? DType::kFloat16 : DType::kFloat32;
    EXPECT_EQ(
        OpTypes(l.program.main),
        (std::vector<std::string>(
            p == Precision::kFp16
                ? std::vector<std::string>{"cast", "relu", "abs", "floor", "sign", "mul", "cast"}
                : std::vector<std::string>{"relu", "abs", "floor", "sign", "mul", "cast"})));
    ASSERT_EQ(l.program.outputs.size(), 1u);
    EXPECT_EQ(l.program.outputs[0].dtype, DType::kInt32);
    ASSERT_FALSE(l.program.casts.empty());
    EXPECT_EQ(l.program.casts.back().from, f);
    EXPECT_EQ(l.program.casts.back().to, DType::kInt32);
    EXPECT_EQ(l.program.casts.back().reason, kModelConvertsDtype);
  }
}

TEST(DtypeOpsTest, ToBoolIsNotEqualZeroAndBoolOutputsCrossAsInt32) {
  Graph g;
  const ValueId ids = AddInput(g, "ids", InputDtype::kInt32, {5});
  g.AddOutput("mask", AddTo(g, ids, kBoolCode));
  Lowered l = Lower(g, Precision::kFp16);
  EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"not_equal", "cast"}));
  ASSERT_EQ(l.program.outputs.size(), 1u);
  EXPECT_EQ(l.program.outputs[0].dtype, DType::kInt32);
  ASSERT_EQ(l.program.casts.size(), 2u);
  EXPECT_EQ(l.program.casts[0].reason, kModelConvertsDtype);
  EXPECT_EQ(l.program.casts[1].reason,
            "model output 'mask' is int32 (Core ML model outputs have no bool)");
}

TEST(DtypeOpsTest, BoolInputsAreInt32FeaturesAndKeepBoolSemantics) {
  Graph g;
  const ValueId m = AddInput(g, "m", InputDtype::kBool, {5});
  // bool -> long keeps the 0/1 values the int32 feature already holds: no op at all.
  g.AddOutput("n", AddTo(g, m, kInt64Code));
  g.AddOutput("f", AddTo(g, m, kFloatCode));
  Lowered l = Lower(g, Precision::kFp32);
  EXPECT_EQ(l.program.inputs[0].dtype, DType::kInt32);
  EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"cast", "identity"}));
  EXPECT_EQ(l.program.outputs[1].dtype, DType::kFloat32);
}

TEST(DtypeOpsTest, APerInputDtypeOverridesTheIoDtype) {
  Graph g;
  const ValueId a = AddInput(g, "a", InputDtype::kFp32, {3});
  const ValueId b = AddInput(g, "b", InputDtype::kDefault, {3});
  const ValueId h = AddInput(g, "h", InputDtype::kFp16, {3});
  g.AddOutput("y", test::AddRelu(g, a));
  g.AddOutput("z", test::AddRelu(g, b));
  g.AddOutput("w", test::AddRelu(g, h));
  Analysis an = Analyze(g, test::BuiltinRegistry());
  ASSERT_TRUE(an.ok());
  PrecisionOptions o = Options(Precision::kFp32);
  o.io_dtype = DType::kFloat16;
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(g, an, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->produced.at(a), DType::kFloat32);
  EXPECT_EQ(plan->produced.at(b), DType::kFloat16) << "no DTYPE: --io-dtype";
  EXPECT_EQ(plan->produced.at(h), DType::kFloat16);
  const PlannedCast* c = plan->FindCast(h, DType::kFloat32);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "model input 'h' is fp16; aten::relu computes in fp32");
  // An fp16 feature needs iOS16.
  o.io_dtype = DType::kFloat32;
  o.target = Target::kIos15;
  plan = PlanPrecision(g, an, o);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(ClassOf(plan.status()), ErrorClass::kUsage);
  EXPECT_EQ(plan.status().message(), "--input h:...:fp16 needs --target ios16 or later");
}

TEST(DtypeOpsTest, DeviceOnlyAndCopyConversionsAreIdentities) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {3});
  const ValueId other = AddInput(g, "o", InputDtype::kFp32, {3});
  const ValueId a =
      g.AddNode(
           "aten::to", "prim_Device",
           {x, g.AddConstNone(), g.AddConstNone(), g.AddConstBool(false), g.AddConstBool(true)}, 1)
          .outputs[0];
  const ValueId b = g.AddNode("aten::type_as", "", {a, other}, 1).outputs[0];
  g.AddOutput("y", test::AddRelu(g, b));
  Lowered l = Lower(g, Precision::kFp32);
  EXPECT_EQ(l.analysis.nodes[0].decision, NodeDecision::kFolded);
  EXPECT_EQ(l.analysis.nodes[1].decision, NodeDecision::kFolded);
  EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"relu"}));
}

TEST(DtypeOpsTest, DtypesCoreMlCannotHoldAreRefusedByName) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {3});
  g.AddOutput("y", AddTo(g, x, kUint8Code));
  g.AddOutput("z", AddTo(g, x, 9));  // complex64
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_EQ(a.problems.size(), 2u);
  EXPECT_EQ(a.problems[0].message,
            "aten::to.dtype: converting to uint8 wraps values around, which Core ML's int32 "
            "cannot express; convert to torch.int32 or torch.int64 instead");
  EXPECT_NE(a.problems[1].message.find("ScalarType 9 (complex or quantized)"), std::string::npos)
      << a.problems[1].message;
  // A bool's 0 and 1 are exact in uint8.
  Graph ok;
  const ValueId m = AddInput(ok, "m", InputDtype::kBool, {3});
  ok.AddOutput("y", AddTo(ok, m, kUint8Code));
  EXPECT_TRUE(Analyze(ok, test::BuiltinRegistry()).ok());
}

/// ids (an argument of `dtype`) -> aten::embedding(weight 10x4, ids).
Graph EmbeddingGraph(InputDtype dtype) {
  Graph g;
  const ValueId ids = AddInput(g, "ids", dtype, {1, 7});
  const ValueId w = g.AddConstTensor("emb.weight", test::Ramp({10, 4}));
  const ValueId e =
      g.AddNode("aten::embedding", "",
                {w, ids, g.AddConstInt(-1), g.AddConstBool(false), g.AddConstBool(false)}, 1)
          .outputs[0];
  g.AddOutput("e", e);
  return g;
}

TEST(DtypeOpsTest, FloatArgumentsReadAsIndicesAreErrorsNamingTheArgument) {
  Graph given = EmbeddingGraph(InputDtype::kFp32);
  std::vector<std::string> notes;
  absl::Status s = CheckIntegerArguments(given, IntegerArgumentUses(given), &notes);
  EXPECT_EQ(ClassOf(s), ErrorClass::kInputSpec);
  EXPECT_EQ(s.message(),
            "forward() argument 'ids' is given as fp32 but aten::embedding reads it as indices; "
            "give --input ids:1x7:int64");
  Graph defaulted = EmbeddingGraph(InputDtype::kDefault);
  s = CheckIntegerArguments(defaulted, IntegerArgumentUses(defaulted), &notes);
  EXPECT_EQ(s.message(),
            "forward() argument 'ids' is float (no DTYPE in its --input; traced models carry "
            "none) but aten::embedding reads it as indices; give --input ids:1x7:int64");
  Graph typed = EmbeddingGraph(InputDtype::kInt64);
  const std::map<ValueId, IntegerUse> uses = IntegerArgumentUses(typed);
  ASSERT_EQ(uses.size(), 1u);
  EXPECT_EQ(uses.begin()->second.high, 10) << "ids of a 10-row table lie in [0, 10)";
  EXPECT_TRUE(CheckIntegerArguments(typed, uses, &notes).ok());
  EXPECT_TRUE(notes.empty());
  Lowered l = Lower(typed, Precision::kFp16);
  EXPECT_EQ(OpTypes(l.program.main), (std::vector<std::string>{"gather", "cast"}));
}

TEST(DtypeOpsTest, AFloatArgumentTheModelConvertsToIdsIsOnlyANote) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {3});
  const ValueId ids = AddTo(g, x, kInt64Code);
  const ValueId w = g.AddConstTensor("emb.weight", test::Ramp({10, 4}));
  g.AddOutput(
      "e", g.AddNode("aten::embedding", "",
                     {w, ids, g.AddConstInt(-1), g.AddConstBool(false), g.AddConstBool(false)}, 1)
               .outputs[0]);
  std::vector<std::string> notes;
  const std::map<ValueId, IntegerUse> uses = IntegerArgumentUses(g);
  ASSERT_EQ(uses.size(), 1u);
  EXPECT_FALSE(uses.begin()->second.strong);
  EXPECT_EQ(uses.begin()->second.high, 10);
  EXPECT_TRUE(CheckIntegerArguments(g, uses, &notes).ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0],
            "forward() argument 'x' is taken as float, but aten::embedding reads it (converted) "
            "as indices; if it holds integers, give --input x:3:int64");
}

TEST(DtypeOpsTest, UntypedInputsLeaveTypeOpsCoveredButSkipped) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {});
  g.value(x).typed = false;  // coverage without --input
  g.AddOutput("y", AddTo(g, x, kInt64Code));
  Analysis a = Analyze(g, test::BuiltinRegistry());
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.nodes[0].decision, NodeDecision::kSkipped);
  EXPECT_EQ(a.nodes[0].lowering, &DtypeConversionLowering());
}

TEST(DtypeOpsTest, AComparisonWithAnIntegerIsANoteWhenNoDtypeWasGiven) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  const ValueId v = g.AddNode("aten::view", "", {x, g.AddConstInts({2, 2})}, 1).outputs[0];
  g.AddOutput("eq", g.AddNode("aten::eq", "Scalar", {v, g.AddConstInt(3)}, 1).outputs[0]);
  std::vector<std::string> notes;
  EXPECT_TRUE(CheckIntegerArguments(g, IntegerArgumentUses(g), &notes).ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0],
            "forward() argument 'x' is taken as float, but aten::eq compares it with an integer; "
            "if it holds integers, give --input x:4:int64");
  g.value(x).input_dtype = InputDtype::kFp32;  // said explicitly: no note
  notes.clear();
  EXPECT_TRUE(CheckIntegerArguments(g, IntegerArgumentUses(g), &notes).ok());
  EXPECT_TRUE(notes.empty());
}

}  // namespace
}  // namespace ts2coreml::core
