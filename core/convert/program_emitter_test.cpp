/// Tests of MIL emission: the casts in the program are exactly the planned ones, constants are
/// stored in their planned dtype, outputs are renamed, and a lowering that breaks its declaration
/// is refused with its plugin named.
#include "core/convert/program_emitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/base/errors.h"
#include "core/convert/analysis.h"
#include "core/convert/precision_plan.h"
#include "core/convert/test_util.h"

namespace ts2coreml::core {
namespace {

using mil::DType;

PrecisionOptions Options(Precision p, Target t, DType io = DType::kFloat32) {
  PrecisionOptions o;
  o.precision = p;
  o.target = t;
  o.io_dtype = io;
  return o;
}

struct Lowered {
  Analysis analysis;
  PrecisionPlan plan;
  LoweredProgram program;
};

/// Analyze + plan + lower with the built-in plugins; every phase must succeed.
Lowered Lower(Graph& g, const PrecisionOptions& options) {
  Lowered out{Analyze(g, test::BuiltinRegistry()), {}, {mil::Function(""), {}, {}, {}, {}, {}}};
  EXPECT_TRUE(out.analysis.ok()) << AnalysisStatus(out.analysis);
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(g, out.analysis, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return out;
  out.plan = *std::move(plan);
  absl::StatusOr<LoweredProgram> program = LowerGraph(g, out.analysis, out.plan);
  EXPECT_TRUE(program.ok()) << program.status();
  if (program.ok()) out.program = *std::move(program);
  return out;
}

std::vector<const mil::Operation*> OpsOfType(const mil::Function& f, const std::string& type) {
  std::vector<const mil::Operation*> ops;
  for (const mil::Operation& op : f.ops()) {
    if (op.type == type) ops.push_back(&op);
  }
  return ops;
}

/// The single var of `op`'s input `name` (0 when absent).
mil::VarId Arg(const mil::Operation& op, const std::string& name) {
  for (const mil::OpInput& in : op.inputs) {
    if (in.name == name && in.vars.size() == 1) return in.vars[0];
  }
  return 0;
}

/// The op producing `var`, or null for a function input.
const mil::Operation* Producer(const mil::Function& f, mil::VarId var) {
  const int p = f.var(var).producer;
  return p < 0 ? nullptr : &f.ops()[static_cast<size_t>(p)];
}

/// Checks that the program's cast ops are exactly the plan's: same count, same (from, to) pairs,
/// and that no cast reads a constant.
void ExpectCastsMatchPlan(const Lowered& l) {
  const mil::Function& f = l.program.main;
  std::vector<std::pair<DType, DType>> emitted, planned;
  for (const mil::Operation* op : OpsOfType(f, "cast")) {
    const mil::VarId x = Arg(*op, "x");
    ASSERT_NE(x, 0);
    const mil::Operation* src = Producer(f, x);
    // Only a weight upcast (planned as such) reads a const.
    bool weight_upcast = false;
    for (const EmittedCast& c : l.program.casts) {
      if (c.var == f.var(op->outputs.at(0)).name) weight_upcast = c.constant;
    }
    EXPECT_TRUE(src == nullptr || src->type != "const" || weight_upcast)
        << "cast " << op->name << " reads a const";
    if (weight_upcast) {
      ASSERT_NE(src, nullptr);
      EXPECT_EQ(src->type, "const") << "weight upcast " << op->name;
    }
    ASSERT_EQ(op->outputs.size(), 1u);
    emitted.push_back({f.var(x).type.dtype, f.var(op->outputs[0]).type.dtype});
    // The dtype operand names the target dtype.
    const mil::Operation* dtype_op = Producer(f, Arg(*op, "dtype"));
    ASSERT_NE(dtype_op, nullptr);
    ASSERT_TRUE(dtype_op->value.has_value());
    EXPECT_EQ(dtype_op->value->strings,
              std::vector<std::string>{std::string(mil::DTypeName(emitted.back().second))});
  }
  for (const PlannedCast& c : l.plan.casts) planned.push_back({c.from, c.to});
  std::sort(emitted.begin(), emitted.end());
  std::sort(planned.begin(), planned.end());
  EXPECT_EQ(emitted, planned);
  ASSERT_EQ(l.program.casts.size(), l.plan.casts.size());
  for (const EmittedCast& c : l.program.casts) {
    const PlannedCast* p = nullptr;
    for (const PlannedCast& pc : l.plan.casts) {
      if (pc.reason == c.reason && pc.from == c.from && pc.to == c.to) p = &pc;
    }
    EXPECT_NE(p, nullptr) << "emitted cast " << c.var << " (" << c.reason << ") is not planned";
  }
}

/// x (fp32 model input) -> conv -> softmax -> "probs".
struct ConvSoftmax {
  Graph g;
  ValueId x, conv, sm;
  ConvSoftmax() {
    x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
    conv = test::AddConv(g, x, 4);
    sm = test::AddSoftmax(g, conv);
    g.AddOutput("probs", sm);
  }
};

TEST(ProgramEmitterTest, ConvSoftmaxFp16CastsMatchThePlan) {
  ConvSoftmax m;
  Lowered l = Lower(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  EXPECT_EQ(f.opset(), "CoreML6");
  ASSERT_EQ(l.plan.casts.size(), 2u);
  EXPECT_EQ(OpsOfType(f, "cast").size(), 2u);
  ExpectCastsMatchPlan(l);

  // The conv reads x through the fp16 cast, and its weight and bias straight from fp16 consts.
  const std::vector<const mil::Operation*> convs = OpsOfType(f, "conv");
  ASSERT_EQ(convs.size(), 1u);
  const mil::Operation& conv = *convs[0];
  const mil::Operation* x_src = Producer(f, Arg(conv, "x"));
  ASSERT_NE(x_src, nullptr);
  EXPECT_EQ(x_src->type, "cast");
  EXPECT_EQ(f.var(Arg(conv, "x")).type.dtype, DType::kFloat16);
  for (const char* name : {"weight", "bias"}) {
    const mil::VarId v = Arg(conv, name);
    ASSERT_NE(v, 0) << name;
    const mil::Operation* src = Producer(f, v);
    ASSERT_NE(src, nullptr) << name;
    EXPECT_EQ(src->type, "const") << name;
    EXPECT_EQ(f.var(v).type.dtype, DType::kFloat16) << name;
    ASSERT_TRUE(src->value.has_value());
    EXPECT_EQ(src->value->type.dtype, DType::kFloat16) << name;
  }
  EXPECT_EQ(f.var(Arg(conv, "weight")).type.shape, (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(f.var(Arg(conv, "weight")).name, "conv_weight");
  EXPECT_EQ(f.var(Arg(conv, "weight")).type.numel() * 2,
            static_cast<int64_t>(Producer(f, Arg(conv, "weight"))->value->byte_size()));
  // Op outputs in their planned dtypes.
  ASSERT_EQ(conv.outputs.size(), 1u);
  EXPECT_EQ(f.var(conv.outputs[0]).type, (mil::TensorType{DType::kFloat16, {1, 4, 8, 8}}));
  const std::vector<const mil::Operation*> sms = OpsOfType(f, "softmax");
  ASSERT_EQ(sms.size(), 1u);
  const mil::VarId sm_in = Arg(*sms[0], "x");
  EXPECT_EQ(f.var(sm_in).type.dtype, DType::kFloat32);
  EXPECT_EQ(Producer(f, sm_in)->type, "cast");
  EXPECT_EQ(f.var(sms[0]->outputs[0]).type, (mil::TensorType{DType::kFloat32, {1, 4, 8, 8}}));

  // The softmax output is the model output, renamed, without a cast after it.
  ASSERT_EQ(f.outputs().size(), 1u);
  EXPECT_EQ(f.outputs()[0], sms[0]->outputs[0]);
  EXPECT_EQ(f.var(f.outputs()[0]).name, "probs");
  ASSERT_EQ(l.program.outputs.size(), 1u);
  EXPECT_EQ(l.program.outputs[0].name, "probs");
  EXPECT_EQ(l.program.outputs[0].dtype, DType::kFloat32);
  EXPECT_EQ(l.program.outputs[0].shape, (std::vector<int64_t>{1, 4, 8, 8}));
  ASSERT_EQ(l.program.inputs.size(), 1u);
  EXPECT_EQ(l.program.inputs[0].name, "x");
  EXPECT_EQ(l.program.inputs[0].dtype, DType::kFloat32);

  // op_origin: conv and softmax ops come from their nodes; casts and consts of casts from none.
  ASSERT_EQ(l.program.op_origin.size(), f.ops().size());
  for (size_t k = 0; k < f.ops().size(); ++k) {
    if (f.ops()[k].type == "cast") EXPECT_EQ(l.program.op_origin[k], -1);
    if (f.ops()[k].type == "conv") EXPECT_EQ(l.program.op_origin[k], 0);
    if (f.ops()[k].type == "softmax") EXPECT_EQ(l.program.op_origin[k], 1);
  }
}

TEST(ProgramEmitterTest, Fp32PrecisionHasNoCastsAndFp32Weights) {
  ConvSoftmax m;
  Lowered l = Lower(m.g, Options(Precision::kFp32, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  EXPECT_TRUE(OpsOfType(f, "cast").empty());
  EXPECT_TRUE(l.program.casts.empty());
  const mil::Operation& conv = *OpsOfType(f, "conv").at(0);
  EXPECT_EQ(f.var(Arg(conv, "weight")).type.dtype, DType::kFloat32);
  EXPECT_EQ(f.var(conv.outputs[0]).type.dtype, DType::kFloat32);
  EXPECT_EQ(Producer(f, Arg(conv, "x")), nullptr);  // the model input itself
}

TEST(ProgramEmitterTest, SharedFp32ConsumerCastIsEmittedOnce) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId conv = test::AddConv(g, x, 4);
  g.AddOutput("a", test::AddSoftmax(g, conv, 1));
  g.AddOutput("b",
              g.AddNode("aten::log_softmax", "int", {conv, g.AddConstInt(-1), g.AddConstNone()}, 1)
                  .outputs[0]);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(OpsOfType(l.program.main, "cast").size(), 2u);
  ExpectCastsMatchPlan(l);
  std::vector<std::string> names;
  for (mil::VarId v : l.program.main.outputs()) names.push_back(l.program.main.var(v).name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
}

TEST(ProgramEmitterTest, OutputCastIsRenamedToTheOutputName) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId y = test::AddRelu(g, test::AddConv(g, x, 4));
  g.AddOutput("y", y);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  ExpectCastsMatchPlan(l);
  ASSERT_EQ(f.outputs().size(), 1u);
  const mil::Var& out = f.var(f.outputs()[0]);
  EXPECT_EQ(out.name, "y");
  EXPECT_EQ(out.type, (mil::TensorType{DType::kFloat32, {1, 4, 8, 8}}));
  ASSERT_GE(out.producer, 0);
  EXPECT_EQ(f.ops()[static_cast<size_t>(out.producer)].type, "cast");
  const mil::Operation& relu = *OpsOfType(f, "relu").at(0);
  EXPECT_EQ(f.var(relu.outputs[0]).type.dtype, DType::kFloat16);
  // Its reason is recorded under the output's name, where inspect looks it up.
  int recorded = 0;
  for (const EmittedCast& c : l.program.casts) {
    if (c.var != "y") continue;
    ++recorded;
    EXPECT_NE(c.reason.find("model output 'y'"), std::string::npos) << c.reason;
  }
  EXPECT_EQ(recorded, 1);
}

TEST(ProgramEmitterTest, Fp16IoHasNoCasts) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  g.AddOutput("y", test::AddRelu(g, test::AddConv(g, x, 4)));
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16, DType::kFloat16));
  ASSERT_FALSE(HasFailure());
  EXPECT_TRUE(OpsOfType(l.program.main, "cast").empty());
  EXPECT_EQ(l.program.inputs.at(0).dtype, DType::kFloat16);
  EXPECT_EQ(l.program.outputs.at(0).dtype, DType::kFloat16);
}

TEST(ProgramEmitterTest, InputThatIsAnOutputGetsAnIdentity) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 4});
  const ValueId r = test::AddRelu(g, x);
  g.AddOutput("y", r);
  g.AddOutput("x_copy", x);
  g.AddOutput("y_again", r);
  Lowered l = Lower(g, Options(Precision::kFp32, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  ASSERT_EQ(f.outputs().size(), 3u);
  std::vector<std::string> names;
  for (mil::VarId v : f.outputs()) names.push_back(f.var(v).name);
  EXPECT_EQ(names, (std::vector<std::string>{"y", "x_copy", "y_again"}));
  // The input keeps its name; the output that is the input comes out of an identity.
  EXPECT_EQ(f.var(f.inputs().at(0)).name, "x");
  const mil::Operation* copy = Producer(f, f.outputs()[1]);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->type, "identity");
  EXPECT_EQ(Arg(*copy, "x"), f.inputs()[0]);
  // The same var as a second output goes through an identity too.
  const mil::Operation* again = Producer(f, f.outputs()[2]);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->type, "identity");
  EXPECT_EQ(Arg(*again, "x"), f.outputs()[0]);
  EXPECT_EQ(OpsOfType(f, "identity").size(), 2u);
}

TEST(ProgramEmitterTest, BatchNormParamsStoredInPlannedDtype) {
  for (Target t : {Target::kIos16, Target::kIos17}) {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
    g.AddOutput("y", test::AddBatchNorm(g, x, 6, 1e-3));
    Lowered l = Lower(g, Options(Precision::kFp16, t));
    ASSERT_FALSE(HasFailure());
    const mil::Function& f = l.program.main;
    ExpectCastsMatchPlan(l);
    const DType want = t == Target::kIos17 ? DType::kFloat32 : DType::kFloat16;
    EXPECT_EQ(l.plan.nodes[0].param, want);
    const mil::Operation& bn = *OpsOfType(f, "batch_norm").at(0);
    EXPECT_EQ(f.var(Arg(bn, "x")).type.dtype, DType::kFloat16);
    for (const char* name : {"mean", "variance", "gamma", "beta", "epsilon"}) {
      const mil::VarId v = Arg(bn, name);
      ASSERT_NE(v, 0) << name;
      EXPECT_EQ(f.var(v).type.dtype, want) << name << " on " << TargetName(t);
      ASSERT_NE(Producer(f, v), nullptr) << name;
      EXPECT_EQ(Producer(f, v)->type, "const") << name;
    }
    EXPECT_EQ(f.var(bn.outputs[0]).type.dtype, DType::kFloat16);
  }
}

TEST(ProgramEmitterTest, ConstantOutOfRangeIsStoredFp32AndNotCast) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 4});
  const ValueId r = test::AddRelu(g, x);
  const ValueId big = g.AddConstTensor("big", MakeFloatTensor({4}, {1.0f, -70000.0f, 2.0f, 3.0f}));
  g.AddOutput("y", g.AddNode("aten::add", "Tensor", {r, big, g.AddConstInt(1)}, 1).outputs[0]);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  ExpectCastsMatchPlan(l);
  const mil::Operation& add = *OpsOfType(f, "add").at(0);
  const mil::VarId y = Arg(add, "y");
  ASSERT_NE(y, 0);
  EXPECT_EQ(f.var(y).type.dtype, DType::kFloat32);
  EXPECT_EQ(Producer(f, y)->type, "const");
  EXPECT_EQ(f.var(add.outputs[0]).type.dtype, DType::kFloat32);
}

// layer_norm computes in FP32 under fp16 (its lowering needs it), but its weights are stored FP16
// and cast up in the program; the scalar epsilon stays an FP32 const.
TEST(ProgramEmitterTest, Fp32NodeWeightsAreFp16ConstsCastUp) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 16});
  const ValueId w = g.AddConstTensor("ln.weight", test::Ramp({16}));
  const ValueId b = g.AddConstTensor("ln.bias", test::Filled({16}, 0.25f));
  g.AddOutput(
      "y",
      g.AddNode("aten::layer_norm", "",
                {x, g.AddConstInts({16}), w, b, g.AddConstFloat(1e-5), g.AddConstBool(true)}, 1)
          .outputs[0]);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_FALSE(HasFailure());
  const mil::Function& f = l.program.main;
  ExpectCastsMatchPlan(l);
  const mil::Operation& ln = *OpsOfType(f, "layer_norm").at(0);
  for (const char* name : {"gamma", "beta"}) {
    const mil::VarId v = Arg(ln, name);
    ASSERT_NE(v, 0) << name;
    EXPECT_EQ(f.var(v).type.dtype, DType::kFloat32) << name;
    const mil::Operation* cast = Producer(f, v);
    ASSERT_NE(cast, nullptr) << name;
    EXPECT_EQ(cast->type, "cast") << name;
    const mil::Operation* stored = Producer(f, Arg(*cast, "x"));
    ASSERT_NE(stored, nullptr) << name;
    EXPECT_EQ(stored->type, "const") << name;
    EXPECT_EQ(f.var(Arg(*cast, "x")).type.dtype, DType::kFloat16) << name;
    EXPECT_EQ(f.var(Arg(*cast, "x")).type.shape, std::vector<int64_t>{16}) << name;
  }
  const mil::VarId eps = Arg(ln, "epsilon");
  ASSERT_NE(eps, 0);
  EXPECT_EQ(Producer(f, eps)->type, "const");
  EXPECT_EQ(f.var(eps).type.dtype, DType::kFloat32);
  int upcasts = 0;
  for (const EmittedCast& c : l.program.casts) upcasts += c.constant ? 1 : 0;
  EXPECT_EQ(upcasts, 2);
}

// --- A hand-made lowering, to check what the emitter does with a misbehaving plugin. ---

/// Emits relu with `user_data` as the output dtype, or fails/misbehaves per the mode.
enum class Mode {
  kPlanned,
  kWrongDtype,
  kWrongShape,
  kFail,
  kEmitCast,
  kBindNothing,
  kUnknownInput,  ///< relu with an input relu does not have
  kTooNewOp,      ///< iOS17's resize on an iOS16 target
  kAskTarget,     ///< fails unless deployment_target answers 16, else as kPlanned
};

t2c_status TestLower(const t2c_host_api* api, t2c_context* ctx, void* user_data) {
  const Mode mode = *static_cast<const Mode*>(user_data);
  if (mode == Mode::kFail) {
    api->fail(ctx, "the test lowering gives up");
    return T2C_ERROR;
  }
  if (mode == Mode::kBindNothing) return T2C_OK;
  if (mode == Mode::kAskTarget && api->deployment_target(ctx) != 16) {
    api->fail(ctx, "deployment_target is not 16");
    return T2C_ERROR;
  }
  t2c_var x = 0;
  if (api->input_var(ctx, 0, &x) != T2C_OK) return T2C_ERROR;
  t2c_tensor_type t{};
  if (api->output_type(ctx, 0, &t) != T2C_OK) return T2C_ERROR;
  if (mode == Mode::kWrongDtype) t.dtype = T2C_DTYPE_FP32;
  if (mode == Mode::kWrongShape) t.dims[t.rank - 1] += 1;
  const t2c_named_arg args[] = {{"x", &x, 1}, {"alpha", &x, 1}};
  const uint32_t num_args = mode == Mode::kUnknownInput ? 2 : 1;
  const char* type = mode == Mode::kEmitCast ? "cast" : mode == Mode::kTooNewOp ? "resize" : "relu";
  t2c_var y = 0;
  if (api->emit(ctx, type, args, num_args, &t, 1, &y) != T2C_OK) return T2C_ERROR;
  return api->set_output(ctx, 0, y);
}

/// One node "test::op" lowered by a hand-made lowering of plugin "test.plugin".
class HandMadeLoweringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_.name = "test.plugin";
    lowering_.name = "test_relu";
    lowering_.plugin = &plugin_;
    lowering_.ops = {"test::op"};
    lowering_.inputs = {registry::InputDecl{"self", T2C_ROLE_TENSOR, T2C_MASK_FLOAT, 0}};
    lowering_.infer_rule = T2C_INFER_SAME_AS_INPUT0;
    lowering_.lower = &TestLower;
    lowering_.user_data = &mode_;

    x_ = g_.AddInput("x", TypeClass::kFloat, {1, 4});
    Node& n = g_.AddNode("test::op", "", {x_}, 1);
    n.source = "t.py:1";
    Value& out = g_.value(n.outputs[0]);
    out.kind = ValueKind::kTensor;
    out.typed = true;
    out.type_class = TypeClass::kFloat;
    out.shape = {1, 4};
    g_.AddOutput("y", n.outputs[0]);

    NodeAnalysis na;
    na.decision = NodeDecision::kLowered;
    na.lowering = &lowering_;
    na.matched = "test::op";
    analysis_.nodes.push_back(na);
  }

  absl::StatusOr<LoweredProgram> Run(Mode mode) {
    mode_ = mode;
    absl::StatusOr<PrecisionPlan> plan =
        PlanPrecision(g_, analysis_, Options(Precision::kFp16, Target::kIos16));
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return plan.status();
    plan_ = *std::move(plan);
    return LowerGraph(g_, analysis_, plan_);
  }

  registry::PluginInfo plugin_;
  registry::Lowering lowering_;
  Mode mode_ = Mode::kPlanned;
  Graph g_;
  ValueId x_ = kNoValue;
  Analysis analysis_;
  PrecisionPlan plan_;
};

TEST_F(HandMadeLoweringTest, PlannedTypesAreAccepted) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kPlanned);
  ASSERT_TRUE(p.ok()) << p.status();
  // x -> fp16 for the node, its fp16 output -> fp32 for the model output.
  EXPECT_EQ(plan_.casts.size(), 2u);
  EXPECT_EQ(OpsOfType(p->main, "cast").size(), 2u);
  const mil::Operation& relu = *OpsOfType(p->main, "relu").at(0);
  EXPECT_EQ(p->main.var(Arg(relu, "x")).type.dtype, DType::kFloat16);
  EXPECT_EQ(p->main.var(relu.outputs[0]).type.dtype, DType::kFloat16);
  EXPECT_EQ(p->main.var(p->main.outputs().at(0)).name, "y");
}

TEST_F(HandMadeLoweringTest, WrongOutputDtypeIsRefusedNamingThePlugin) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kWrongDtype);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  const std::string msg(p.status().message());
  EXPECT_NE(msg.find("test::op at t.py:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test.plugin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test_relu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fp32[1,4]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fp16[1,4]"), std::string::npos) << msg;
}

TEST_F(HandMadeLoweringTest, WrongOutputShapeIsRefused) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kWrongShape);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  EXPECT_NE(p.status().message().find("fp16[1,5]"), std::string::npos) << p.status();
}

TEST_F(HandMadeLoweringTest, FailureMessageNamesPluginAndReason) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kFail);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  const std::string msg(p.status().message());
  EXPECT_NE(msg.find("test.plugin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the test lowering gives up"), std::string::npos) << msg;
}

TEST_F(HandMadeLoweringTest, OpsOutsideTheOpsetAreRefusedNamingPluginLoweringAndInput) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kUnknownInput);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::HasSubstr("test::op at t.py:1: plugin test.plugin/test_relu emitted relu "
                                   "with unknown input 'alpha' (inputs: x)"));
  p = Run(Mode::kTooNewOp);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::HasSubstr("emitted resize, which needs target ios17 or later (the target "
                                   "is ios16)"));
}

TEST_F(HandMadeLoweringTest, DeploymentTargetIsTheTargetsIosVersion) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kAskTarget);
  ASSERT_TRUE(p.ok()) << p.status();
}

TEST_F(HandMadeLoweringTest, EmittingACastIsRefused) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kEmitCast);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("never emit 'cast'"), std::string::npos) << p.status();
}

TEST_F(HandMadeLoweringTest, UnboundOutputIsRefused) {
  absl::StatusOr<LoweredProgram> p = Run(Mode::kBindNothing);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kPlugin);
  EXPECT_NE(p.status().message().find("bound no var to output 0"), std::string::npos) << p.status();
}

TEST_F(HandMadeLoweringTest, AskingForAnUnplannedDtypeIsAnInternalError) {
  mode_ = Mode::kPlanned;
  absl::StatusOr<PrecisionPlan> plan =
      PlanPrecision(g_, analysis_, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok());
  LoweredProgram out{mil::Function("CoreML6"), {}, {}, {}, {}, {}};
  ProgramEmitter emitter(g_, *plan, out);
  ASSERT_TRUE(emitter.EmitInputs().ok());
  // x is fp32; fp16 is planned, int32 is not.
  EXPECT_TRUE(emitter.VarFor(x_, DType::kFloat16, 0).ok());
  absl::StatusOr<mil::VarId> bad = emitter.VarFor(x_, DType::kInt32, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ClassOf(bad.status()), ErrorClass::kInternal);
  EXPECT_NE(bad.status().message().find("without a planned cast"), std::string::npos)
      << bad.status();
  // Asking twice for the planned dtype reuses the one cast.
  const size_t ops = out.main.ops().size();
  EXPECT_TRUE(emitter.VarFor(x_, DType::kFloat16, 0).ok());
  EXPECT_EQ(out.main.ops().size(), ops);
  EXPECT_EQ(out.casts.size(), 1u);
}

}  // namespace
}  // namespace ts2coreml::core

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

/// x -> conv -> softmax, the output named `output_name`.
struct ConvSoftmaxNamed {
  Graph g;
  ValueId x, conv, sm;
  explicit ConvSoftmaxNamed(const std::string& output_name) {
    x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
    conv = test::AddConv(g, x, 4);
    sm = test::AddSoftmax(g, conv);
    g.AddOutput(output_name, sm);
  }
};

TEST(ProgramEmitterNamesTest, OutputNamedLikeAnInputIsAnInputSpecError) {
  ConvSoftmaxNamed m("x");
  Analysis a = Analyze(m.g, test::BuiltinRegistry());
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(m.g, a, PrecisionOptions{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::StatusOr<LoweredProgram> p = LowerGraph(m.g, a, *plan);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kInputSpec);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("'x' is also an input name"));
}

TEST(ProgramEmitterNamesTest, TwoOutputsWithOneSanitizedNameAreAnInputSpecError) {
  ConvSoftmaxNamed m("a.b");
  m.g.AddOutput("a_b", m.conv);
  Analysis a = Analyze(m.g, test::BuiltinRegistry());
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(m.g, a, PrecisionOptions{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::StatusOr<LoweredProgram> p = LowerGraph(m.g, a, *plan);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ClassOf(p.status()), ErrorClass::kInputSpec);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("two model outputs are named 'a_b'"));
}

TEST(ProgramEmitterControlFlowTest, IfBecomesCondAndLoopBecomesWhileLoop) {
  test::ControlFlowGraph cf;
  Lowered l = Lower(cf.g, Options(Precision::kFp16, Target::kIos16));
  const mil::Function& f = l.program.main;
  std::vector<const mil::Operation*> conds = OpsOfType(f, "cond");
  std::vector<const mil::Operation*> loops = OpsOfType(f, "while_loop");
  ASSERT_EQ(conds.size(), 1u);
  ASSERT_EQ(loops.size(), 1u);
  // cond: the softmax branch ends with its planned cast down to fp16; both yield fp16[2,3].
  ASSERT_EQ(conds[0]->blocks.size(), 2u);
  const mil::Block& then = f.block(conds[0]->blocks[0]);
  ASSERT_FALSE(then.ops.empty());
  EXPECT_EQ(f.ops()[static_cast<size_t>(then.ops.back())].type, "cast");
  EXPECT_EQ(f.var(conds[0]->outputs[0]).type, (mil::TensorType{DType::kFloat16, {2, 3}}));
  for (int b : conds[0]->blocks) {
    ASSERT_EQ(f.block(b).outputs.size(), 1u);
    EXPECT_EQ(f.var(f.block(b).outputs[0]).block, b);  // yields its own var
  }
  // while_loop: loop vars (index, h); the condition block compares the index with 100.
  ASSERT_EQ(loops[0]->blocks.size(), 2u);
  const mil::Block& cond = f.block(loops[0]->blocks[0]);
  const mil::Block& body = f.block(loops[0]->blocks[1]);
  EXPECT_EQ(cond.inputs.size(), 2u);
  EXPECT_EQ(body.inputs.size(), 2u);
  EXPECT_EQ(f.var(body.inputs[0]).type, (mil::TensorType{DType::kInt32, {}}));
  EXPECT_EQ(f.var(body.inputs[1]).type, (mil::TensorType{DType::kFloat16, {2, 3}}));
  EXPECT_EQ(f.ops()[static_cast<size_t>(cond.ops.at(0))].type, "less");
  EXPECT_EQ(body.outputs.size(), 2u);
  // The body reads the cond's result from outside, and the lowerings inside are the plugins'.
  bool reads_y = false;
  for (int k : body.ops) {
    for (const mil::OpInput& in : f.ops()[static_cast<size_t>(k)].inputs) {
      reads_y |= in.vars[0] == conds[0]->outputs[0];
    }
  }
  EXPECT_TRUE(reads_y);
  // Every op sees only what its scope allows (Function::AddOp checks it), and the main block
  // holds the control-flow ops themselves.
  const std::vector<int>& main_ops = f.block(0).ops;
  EXPECT_NE(
      std::find(main_ops.begin(), main_ops.end(), static_cast<int>(loops[0] - f.ops().data())),
      main_ops.end());
}

TEST(ProgramEmitterControlFlowTest, RunTimeIndexBecomesGatherAndSliceBySize) {
  // for i in range(40): h = h + x[i]; w = w + x[i:i + 2]   (40 trips: a while_loop)
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {40, 3});
  const ValueId h0 =
      g.AddNode("aten::select", "int", {x, g.AddConstInt(0), g.AddConstInt(0)}, 1).outputs[0];
  const ValueId w0 =
      g.AddNode("aten::slice", "Tensor",
                {x, g.AddConstInt(0), g.AddConstInt(0), g.AddConstInt(2), g.AddConstInt(1)}, 1)
          .outputs[0];
  Node& loop = test::AddControlFlow(
      g, "prim::Loop", {g.AddConstInt(40), g.AddConstBool(true), h0, w0}, 2,
      {[&](const std::vector<ValueId>& in) {
        const ValueId row =
            g.AddNode("aten::select", "int", {x, g.AddConstInt(0), in[0]}, 1).outputs[0];
        const ValueId end = g.AddNode("aten::add", "int", {in[0], g.AddConstInt(2)}, 1).outputs[0];
        const ValueId rows = g.AddNode("aten::slice", "Tensor",
                                       {x, g.AddConstInt(0), in[0], end, g.AddConstInt(1)}, 1)
                                 .outputs[0];
        const ValueId h =
            g.AddNode("aten::add", "Tensor", {in[1], row, g.AddConstInt(1)}, 1).outputs[0];
        const ValueId w =
            g.AddNode("aten::add", "Tensor", {in[2], rows, g.AddConstInt(1)}, 1).outputs[0];
        return std::vector<ValueId>{g.AddConstBool(true), h, w};
      }},
      /*num_block_inputs=*/3);
  g.AddOutput("h", loop.outputs[0]);
  g.AddOutput("w", loop.outputs[1]);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  const mil::Function& f = l.program.main;
  std::vector<const mil::Operation*> loops = OpsOfType(f, "while_loop");
  ASSERT_EQ(loops.size(), 1u);
  const mil::Block& body = f.block(loops[0]->blocks[1]);
  const mil::VarId index = body.inputs.at(0);
  // x[i]: gather at [i] (Core ML's gather takes indices of rank 1 or more), then squeeze.
  std::vector<const mil::Operation*> gathers = OpsOfType(f, "gather");
  ASSERT_EQ(gathers.size(), 1u);
  const mil::Operation* indices = Producer(f, Arg(*gathers[0], "indices"));
  ASSERT_NE(indices, nullptr);
  EXPECT_EQ(indices->type, "expand_dims");
  EXPECT_EQ(Arg(*indices, "x"), index);
  EXPECT_EQ(f.var(gathers[0]->outputs[0]).type, (mil::TensorType{DType::kFloat16, {1, 3}}));
  const mil::Operation* squeeze = nullptr;
  for (const mil::Operation* op : OpsOfType(f, "squeeze")) {
    if (Arg(*op, "x") == gathers[0]->outputs[0]) squeeze = op;
  }
  ASSERT_NE(squeeze, nullptr);
  EXPECT_EQ(f.var(squeeze->outputs[0]).type, (mil::TensorType{DType::kFloat16, {3}}));
  std::vector<const mil::Operation*> slices = OpsOfType(f, "slice_by_size");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(f.var(slices[0]->outputs[0]).type, (mil::TensorType{DType::kFloat16, {2, 3}}));
  // begin = [i, 0], made in the body from the trip index.
  const mil::Operation* begin = Producer(f, Arg(*slices[0], "begin"));
  ASSERT_NE(begin, nullptr);
  EXPECT_EQ(begin->type, "concat");
  EXPECT_EQ(f.var(Arg(*slices[0], "begin")).type, (mil::TensorType{DType::kInt32, {2}}));
  EXPECT_EQ(f.var(Arg(*slices[0], "begin")).block, loops[0]->blocks[1]);
}

TEST(ProgramEmitterControlFlowTest, RunTimeWriteBecomesAMaskedSelect) {
  // for i in range(40): buf = buf.select_scatter(x[i] * 2, 0, i)   (buf: [40, 3])
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {40, 3});
  Node& loop = test::AddControlFlow(
      g, "prim::Loop", {g.AddConstInt(40), g.AddConstBool(true), x}, 1,
      {[&](const std::vector<ValueId>& in) {
        const ValueId row =
            g.AddNode("aten::select", "int", {x, g.AddConstInt(0), in[0]}, 1).outputs[0];
        const ValueId buf =
            g.AddNode("aten::select_scatter", "", {in[1], row, g.AddConstInt(0), in[0]}, 1)
                .outputs[0];
        return std::vector<ValueId>{g.AddConstBool(true), buf};
      }},
      /*num_block_inputs=*/2);
  g.AddOutput("buf", loop.outputs[0]);
  Lowered l = Lower(g, Options(Precision::kFp16, Target::kIos16));
  const mil::Function& f = l.program.main;
  std::vector<const mil::Operation*> loops = OpsOfType(f, "while_loop");
  ASSERT_EQ(loops.size(), 1u);
  const mil::Block& body = f.block(loops[0]->blocks[1]);
  // select(reshape(equal(positions, [i]), [40, 1]), expand_dims(row, [0]), buf)
  std::vector<const mil::Operation*> selects = OpsOfType(f, "select");
  ASSERT_EQ(selects.size(), 1u);
  EXPECT_EQ(f.var(selects[0]->outputs[0]).type, (mil::TensorType{DType::kFloat16, {40, 3}}));
  EXPECT_EQ(Arg(*selects[0], "b"), body.inputs.at(1));
  const mil::Operation* mask = Producer(f, Arg(*selects[0], "cond"));
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->type, "reshape");
  EXPECT_EQ(f.var(mask->outputs[0]).type, (mil::TensorType{DType::kBool, {40, 1}}));
  const mil::Operation* hit = Producer(f, Arg(*mask, "x"));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->type, "equal");
  const mil::Operation* start = Producer(f, Arg(*hit, "y"));
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(Arg(*start, "x"), body.inputs.at(0));
  const mil::Operation* row = Producer(f, Arg(*selects[0], "a"));
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->type, "expand_dims");
  EXPECT_EQ(f.var(row->outputs[0]).type, (mil::TensorType{DType::kFloat16, {1, 3}}));
}

TEST(ProgramEmitterControlFlowTest, RunTimeWriteOfAnotherShapeIsRefused) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {40, 3});
  const ValueId y = g.AddInput("y", TypeClass::kFloat, {4});
  Node& loop = test::AddControlFlow(g, "prim::Loop", {g.AddConstInt(40), g.AddConstBool(true), x},
                                    1, {[&](const std::vector<ValueId>& in) {
                                      const ValueId buf =
                                          g.AddNode("aten::select_scatter", "",
                                                    {in[1], y, g.AddConstInt(0), in[0]}, 1)
                                              .outputs[0];
                                      return std::vector<ValueId>{g.AddConstBool(true), buf};
                                    }},
                                    /*num_block_inputs=*/2);
  g.AddOutput("buf", loop.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(AnalysisStatus(a).message()),
              HasSubstr("the written tensor must have the type of one slice"));
}

TEST(ProgramEmitterControlFlowTest, SliceToARunTimeEndIsRefusedNamingTheIndex) {
  // for i in range(40): w = w + x[i:].sum(0): the slice's length changes every trip.
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {40, 3});
  Node& loop = test::AddControlFlow(
      g, "prim::Loop", {g.AddConstInt(40), g.AddConstBool(true), x}, 1,
      {[&](const std::vector<ValueId>& in) {
        const ValueId rows =
            g.AddNode("aten::slice", "Tensor",
                      {in[1], g.AddConstInt(0), in[0], g.AddConstInt(INT64_MAX), g.AddConstInt(1)},
                      1)
                .outputs[0];
        return std::vector<ValueId>{g.AddConstBool(true), rows};
      }},
      /*num_block_inputs=*/2);
  g.AddOutput("w", loop.outputs[0]);
  Analysis a = Analyze(g, test::BuiltinRegistry());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(AnalysisStatus(a).message()),
              HasSubstr("must have a length known at conversion time"));
}

}  // namespace
}  // namespace ts2coreml::core
