/// Tests of precision planning: where the core puts casts, and why; which dtype each node
/// computes and stores its parameters in under each precision and target.
#include "core/convert/precision_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/convert/analysis.h"
#include "core/convert/precision_plan_steps.h"
#include "core/convert/test_util.h"

namespace ts2coreml::core {
namespace {

using mil::DType;

std::string Casts(const PrecisionPlan& p) {
  std::string s;
  for (const PlannedCast& c : p.casts) {
    s += std::to_string(c.value) + " " + std::string(mil::DTypeName(c.from)) + "->" +
         std::string(mil::DTypeName(c.to)) + ": " + c.reason + "\n";
  }
  return s;
}

/// Analyzes `g` with the built-in plugins (expecting no problems) and plans it.
absl::StatusOr<PrecisionPlan> Plan(Graph& g, const PrecisionOptions& options) {
  Analysis a = Analyze(g, test::BuiltinRegistry());
  EXPECT_TRUE(a.ok()) << AnalysisStatus(a);
  return PlanPrecision(g, a, options);
}

PrecisionOptions Options(Precision p, Target t, DType io = DType::kFloat32) {
  PrecisionOptions o;
  o.precision = p;
  o.target = t;
  o.io_dtype = io;
  return o;
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

TEST(PrecisionPlanTest, DefaultsAreFp16Ios16Fp32Io) {
  PrecisionOptions o;
  EXPECT_EQ(o.precision, Precision::kFp16);
  EXPECT_EQ(o.target, Target::kIos16);
  EXPECT_EQ(o.io_dtype, DType::kFloat32);
  EXPECT_EQ(TargetName(Target::kIos17), "ios17");
  EXPECT_EQ(SpecificationVersion(Target::kIos15), 6);
  EXPECT_EQ(SpecificationVersion(Target::kIos16), 7);
  EXPECT_EQ(SpecificationVersion(Target::kIos17), 8);
  EXPECT_EQ(Opset(Target::kIos16), "CoreML6");
}

TEST(PrecisionPlanTest, ConvSoftmaxFp16HasExactlyTwoCasts) {
  ConvSoftmax m;
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->casts.size(), 2u) << Casts(*plan);

  // The model input, fp32 -> fp16, for the conv.
  const PlannedCast* in = plan->FindCast(m.x, DType::kFloat16);
  ASSERT_NE(in, nullptr) << Casts(*plan);
  EXPECT_EQ(in->from, DType::kFloat32);
  EXPECT_EQ(in->consumer, 0);
  EXPECT_NE(in->reason.find("model input 'x'"), std::string::npos) << in->reason;

  // The conv output, fp16 -> fp32, for the softmax that needs fp32.
  const PlannedCast* mid = plan->FindCast(m.conv, DType::kFloat32);
  ASSERT_NE(mid, nullptr) << Casts(*plan);
  EXPECT_EQ(mid->from, DType::kFloat16);
  EXPECT_EQ(mid->consumer, 1);
  EXPECT_NE(mid->reason.find("needs_fp32_compute"), std::string::npos) << mid->reason;
  EXPECT_NE(mid->reason.find("softmax"), std::string::npos) << mid->reason;

  // Nothing at the output: the softmax already produces fp32.
  EXPECT_EQ(plan->FindCast(m.sm, DType::kFloat32), nullptr);
  EXPECT_EQ(plan->FindCast(m.sm, DType::kFloat16), nullptr);

  const NodePlan& conv = plan->nodes[0];
  EXPECT_TRUE(conv.planned);
  EXPECT_EQ(conv.compute, DType::kFloat16);
  EXPECT_EQ(conv.reason, PrecisionReason::kRequestedFp16);
  EXPECT_EQ(conv.outputs, std::vector<DType>{DType::kFloat16});
  ASSERT_EQ(conv.inputs.size(), 13u);
  EXPECT_EQ(conv.inputs[0], DType::kFloat16);   // input
  EXPECT_EQ(conv.inputs[1], DType::kFloat16);   // weight, stored fp16
  EXPECT_EQ(conv.inputs[2], DType::kFloat16);   // bias
  EXPECT_EQ(conv.inputs[3], DType::kInvalid);   // stride: host
  EXPECT_EQ(conv.inputs[12], DType::kInvalid);  // allow_tf32: ignored

  const NodePlan& sm = plan->nodes[1];
  EXPECT_EQ(sm.compute, DType::kFloat32);
  EXPECT_EQ(sm.reason, PrecisionReason::kLoweringNeedsFp32);
  EXPECT_NE(sm.detail.find("needs_fp32_compute"), std::string::npos) << sm.detail;
  EXPECT_EQ(sm.outputs, std::vector<DType>{DType::kFloat32});

  EXPECT_EQ(plan->produced.at(m.x), DType::kFloat32);
  EXPECT_EQ(plan->produced.at(m.conv), DType::kFloat16);
  EXPECT_EQ(plan->produced.at(m.sm), DType::kFloat32);
  EXPECT_TRUE(plan->warnings.empty());
}

TEST(PrecisionPlanTest, Fp32PrecisionHasNoCasts) {
  ConvSoftmax m;
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp32, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->casts.empty()) << Casts(*plan);
  EXPECT_EQ(plan->nodes[0].compute, DType::kFloat32);
  EXPECT_EQ(plan->nodes[0].reason, PrecisionReason::kRequestedFp32);
  EXPECT_EQ(plan->nodes[0].inputs[1], DType::kFloat32);
  EXPECT_EQ(plan->nodes[1].compute, DType::kFloat32);
  EXPECT_EQ(plan->nodes[1].reason, PrecisionReason::kRequestedFp32);
}

TEST(PrecisionPlanTest, Fp16OutputIsCastToFp32Io) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId y = test::AddRelu(g, test::AddConv(g, x, 4));
  g.AddOutput("y", y);
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->casts.size(), 2u) << Casts(*plan);
  const PlannedCast* out = plan->FindCast(y, DType::kFloat32);
  ASSERT_NE(out, nullptr) << Casts(*plan);
  EXPECT_EQ(out->from, DType::kFloat16);
  EXPECT_EQ(out->consumer, -1);
  EXPECT_NE(out->reason.find("model output 'y'"), std::string::npos) << out->reason;
}

TEST(PrecisionPlanTest, ValueConsumedByTwoFp32NodesIsCastOnce) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId conv = test::AddConv(g, x, 4);
  const ValueId a = test::AddSoftmax(g, conv, 1);
  const ValueId b =
      g.AddNode("aten::log_softmax", "int", {conv, g.AddConstInt(-1), g.AddConstNone()}, 1)
          .outputs[0];
  g.AddOutput("a", a);
  g.AddOutput("b", b);
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  int casts_of_conv = 0;
  for (const PlannedCast& c : plan->casts) casts_of_conv += c.value == conv;
  EXPECT_EQ(casts_of_conv, 1) << Casts(*plan);
  const PlannedCast* c = plan->FindCast(conv, DType::kFloat32);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->consumer, 1);  // the first consumer
  EXPECT_EQ(plan->nodes[2].compute, DType::kFloat32);
  EXPECT_EQ(plan->casts.size(), 2u) << Casts(*plan);  // plus the model input
}

TEST(PrecisionPlanTest, ValueConsumedByTwoFp16NodesIsNotCastTwice) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId a = test::AddConv(g, x, 4, 3, "w1");
  const ValueId b = test::AddConv(g, x, 2, 3, "w2");
  const ValueId cat_in = g.AddNode("prim::ListConstruct", "", {a, b}, 1).outputs[0];
  const ValueId cat = g.AddNode("aten::cat", "", {cat_in, g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("y", cat);
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  // x -> fp16 once (two convs), cat output -> fp32 once. The cat's list elements are fp16 already.
  ASSERT_EQ(plan->casts.size(), 2u) << Casts(*plan);
  EXPECT_NE(plan->FindCast(x, DType::kFloat16), nullptr);
  EXPECT_NE(plan->FindCast(cat, DType::kFloat32), nullptr);
  const NodePlan& cat_plan = plan->nodes[3];
  EXPECT_EQ(cat_plan.inputs[0], DType::kFloat16);
}

TEST(PrecisionPlanTest, ConstantBeyondFp16RangeKeepsTheNodeFp32) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 4});
  const ValueId r = test::AddRelu(g, x);
  const ValueId big = g.AddConstTensor("big", MakeFloatTensor({4}, {1.0f, -70000.0f, 2.0f, 3.0f}));
  const ValueId y = g.AddNode("aten::add", "Tensor", {r, big, g.AddConstInt(1)}, 1).outputs[0];
  g.AddOutput("y", y);
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& add = plan->nodes[1];
  EXPECT_EQ(add.compute, DType::kFloat32);
  EXPECT_EQ(add.reason, PrecisionReason::kConstantOutOfRange);
  EXPECT_NE(add.detail.find("'big'"), std::string::npos) << add.detail;
  EXPECT_NE(add.detail.find("70000"), std::string::npos) << add.detail;
  EXPECT_EQ(add.inputs[1], DType::kFloat32);  // the constant is stored fp32
  EXPECT_EQ(add.outputs, std::vector<DType>{DType::kFloat32});
  EXPECT_EQ(plan->nodes[0].compute, DType::kFloat16);  // the relu is unaffected
  // x -> fp16 for the relu, relu out -> fp32 for the add; the add's output is already fp32.
  ASSERT_EQ(plan->casts.size(), 2u) << Casts(*plan);
  const PlannedCast* c = plan->FindCast(r, DType::kFloat32);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->reason.find("65504"), std::string::npos) << c->reason;
  EXPECT_EQ(PrecisionReasonName(add.reason), "constant_out_of_fp16_range");
}

TEST(PrecisionPlanTest, InfinitiesInAConstantAreNoFp16Overflow) {
  // An additive causal mask (0 and -inf), as CLIP builds it: FP16 holds -inf exactly.
  for (float big : {0.0f, 70000.0f}) {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 4});
    const ValueId r = test::AddRelu(g, x);
    const float inf = std::numeric_limits<float>::infinity();
    const ValueId mask = g.AddConstTensor("mask", MakeFloatTensor({4}, {0.0f, -inf, big, inf}));
    g.AddOutput("y", g.AddNode("aten::add", "Tensor", {r, mask, g.AddConstInt(1)}, 1).outputs[0]);
    absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
    ASSERT_TRUE(plan.ok()) << plan.status();
    const NodePlan& add = plan->nodes[1];
    if (big == 0.0f) {
      EXPECT_EQ(add.compute, DType::kFloat16) << add.detail;
      EXPECT_EQ(add.inputs[1], DType::kFloat16);
    } else {  // a finite value beyond 65504 still keeps it fp32, and is the one named
      EXPECT_EQ(add.reason, PrecisionReason::kConstantOutOfRange);
      EXPECT_NE(add.detail.find("reaches 70000"), std::string::npos) << add.detail;
    }
  }
}

TEST(PrecisionPlanTest, ConstantWithinFp16RangeStaysFp16) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 2});
  const ValueId big = g.AddConstTensor("ok", MakeFloatTensor({2}, {65504.0f, -1.0f}));
  g.AddOutput("y", g.AddNode("aten::add", "Tensor", {x, big, g.AddConstInt(1)}, 1).outputs[0]);
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[0].compute, DType::kFloat16);
  EXPECT_EQ(plan->nodes[0].reason, PrecisionReason::kRequestedFp16);
}

/// x [1, 3, C] -> aten::layer_norm over C with the given weight and bias.
struct LayerNorm {
  Graph g;
  ValueId x, w, b, eps, y;
  LayerNorm(std::shared_ptr<const ConstTensor> weight, std::shared_ptr<const ConstTensor> bias) {
    const int64_t c = weight->numel();
    x = g.AddInput("x", TypeClass::kFloat, {1, 3, c});
    w = g.AddConstTensor("ln.weight", std::move(weight));
    b = g.AddConstTensor("ln.bias", std::move(bias));
    eps = g.AddConstFloat(1e-5);
    y = g.AddNode("aten::layer_norm", "", {x, g.AddConstInts({c}), w, b, eps, g.AddConstBool(true)},
                  1)
            .outputs[0];
    g.AddOutput("y", y);
  }
};

/// fp16 on iOS16 with one --keep-fp32 rule.
PrecisionOptions Fp16Keeping(absl::string_view rule_text) {
  PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  absl::StatusOr<KeepFp32Rule> rule = KeepFp32Rule::Parse(rule_text);
  EXPECT_TRUE(rule.ok()) << rule.status();
  if (rule.ok()) o.keep_fp32.push_back(*rule);
  return o;
}

TEST(PrecisionPlanTest, WeightsOfANodeNeedingFp32AreStoredFp16AndCastUp) {
  LayerNorm m(test::Ramp({16}), test::Filled({16}, 0.25f));
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& ln = plan->nodes[0];
  EXPECT_EQ(ln.compute, DType::kFloat32);
  EXPECT_EQ(ln.reason, PrecisionReason::kLoweringNeedsFp32);
  EXPECT_EQ(ln.inputs[2], DType::kFloat32);  // what the lowering sees
  for (ValueId weight : {m.w, m.b}) {
    const PlannedCast* c = plan->FindCast(weight, DType::kFloat32);
    ASSERT_NE(c, nullptr) << Casts(*plan);
    EXPECT_TRUE(c->constant);
    EXPECT_EQ(c->from, DType::kFloat16);
    EXPECT_EQ(c->consumer, 0);
    EXPECT_NE(c->reason.find("weight stored fp16"), std::string::npos) << c->reason;
    EXPECT_NE(c->reason.find("layer_norm"), std::string::npos) << c->reason;
  }
  // The scalar epsilon is an immediate: no reason to round it.
  EXPECT_EQ(plan->FindCast(m.eps, DType::kFloat32), nullptr);
  // Under fp32 nothing is stored fp16.
  plan = Plan(m.g, Options(Precision::kFp32, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->casts.empty()) << Casts(*plan);
}

TEST(PrecisionPlanTest, WeightsFp16CannotHoldStayFp32) {
  std::vector<float> subnormal(16, 1e-6f), huge(16, 0.5f);
  huge[5] = 70000.0f;  // overflows
  LayerNorm m(MakeFloatTensor({16}, subnormal), MakeFloatTensor({16}, huge));
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Every value below FP16's smallest normal: the tensor would keep ~4 significant bits.
  EXPECT_EQ(plan->FindCast(m.w, DType::kFloat32), nullptr) << Casts(*plan);
  EXPECT_EQ(plan->FindCast(m.b, DType::kFloat32), nullptr) << Casts(*plan);
}

// One value flushed to zero in a weight of normal magnitude is an error below the FP16 rounding
// of its largest element: the weight is still stored FP16. So is an all-zero bias (exact).
TEST(PrecisionPlanTest, AFewValuesFlushedToZeroDoNotKeepAWeightFp32) {
  std::vector<float> w(16, 0.5f);
  w[3] = 1e-9f;
  LayerNorm m(MakeFloatTensor({16}, w), test::Filled({16}, 0.0f));
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_NE(plan->FindCast(m.w, DType::kFloat32), nullptr) << Casts(*plan);
  EXPECT_NE(plan->FindCast(m.b, DType::kFloat32), nullptr) << Casts(*plan);
}

TEST(PrecisionPlanTest, WeightsTooSmallForWeightBinStayFp32) {
  LayerNorm m(test::Ramp({4}), test::Filled({4}, 0.25f));
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->FindCast(m.w, DType::kFloat32), nullptr) << Casts(*plan);
}

TEST(PrecisionPlanTest, KeepFp32NodesKeepFp32Weights) {
  LayerNorm m(test::Ramp({16}), test::Filled({16}, 0.25f));
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Fp16Keeping("aten::layer_norm"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[0].reason, PrecisionReason::kUserRule);
  EXPECT_EQ(plan->FindCast(m.w, DType::kFloat32), nullptr) << Casts(*plan);
}

// A weight shared by a node that may read it rounded (layer_norm) and one that must read it exact
// (a --keep-fp32 add) is stored once, in FP32.
TEST(PrecisionPlanTest, WeightAnExactFp32UserReadsIsNotUpcast) {
  LayerNorm m(test::Ramp({16}), test::Filled({16}, 0.25f));
  const ValueId sum =
      m.g.AddNode("aten::add", "Tensor", {m.y, m.w, m.g.AddConstInt(1)}, 1).outputs[0];
  m.g.AddOutput("sum", sum);
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, Fp16Keeping("aten::add"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->FindCast(m.w, DType::kFloat32), nullptr) << Casts(*plan);
  ASSERT_NE(plan->FindCast(m.b, DType::kFloat32), nullptr) << Casts(*plan);  // bias: not shared
}

TEST(PrecisionPlanTest, BatchNormParamsFp32OnIos17) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  g.AddOutput("y", test::AddBatchNorm(g, x, 6, 1e-5));
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos17));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& bn = plan->nodes[0];
  EXPECT_EQ(bn.compute, DType::kFloat16);
  EXPECT_EQ(bn.param, DType::kFloat32);
  EXPECT_NE(bn.param_detail.find("iOS17"), std::string::npos) << bn.param_detail;
  ASSERT_EQ(bn.inputs.size(), 9u);
  EXPECT_EQ(bn.inputs[0], DType::kFloat16);
  for (size_t i : {1, 2, 3, 4, 7}) EXPECT_EQ(bn.inputs[i], DType::kFloat32) << i;
  for (size_t i : {5, 6, 8}) EXPECT_EQ(bn.inputs[i], DType::kInvalid) << i;
  EXPECT_TRUE(plan->warnings.empty()) << plan->warnings.front();
}

TEST(PrecisionPlanTest, BatchNormParamsFp16OnIos16WarnAboutTinyEps) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  g.AddOutput("y", test::AddBatchNorm(g, x, 6, 1e-5));
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& bn = plan->nodes[0];
  EXPECT_EQ(bn.compute, DType::kFloat16);
  EXPECT_EQ(bn.param, DType::kFloat16);
  EXPECT_NE(bn.param_detail.find("ios16"), std::string::npos) << bn.param_detail;
  for (size_t i : {1, 2, 3, 4, 7}) EXPECT_EQ(bn.inputs[i], DType::kFloat16) << i;
  ASSERT_EQ(plan->warnings.size(), 1u);
  const std::string& w = plan->warnings[0];
  EXPECT_NE(w.find("eps"), std::string::npos) << w;
  EXPECT_NE(w.find("1e-05"), std::string::npos) << w;
  EXPECT_NE(w.find("aten::batch_norm"), std::string::npos) << w;
  EXPECT_NE(w.find("ios17"), std::string::npos) << w;
}

TEST(PrecisionPlanTest, BatchNormWithFp16NormalEpsDoesNotWarn) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  g.AddOutput("y", test::AddBatchNorm(g, x, 6, 1e-3));
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[0].param, DType::kFloat16);
  EXPECT_TRUE(plan->warnings.empty()) << plan->warnings.front();
}

TEST(PrecisionPlanTest, WeightsFlushedToZeroInFp16AreWarnedAboutWhenTheyMatter) {
  for (const float other : {2e-9f, 1.0f}) {
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 2});
    const ValueId tiny = g.AddConstTensor("tiny", MakeFloatTensor({2}, {1e-9f, other}));
    g.AddOutput("y", g.AddNode("aten::add", "Tensor", {x, tiny, g.AddConstInt(1)}, 1).outputs[0]);
    absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
    ASSERT_TRUE(plan.ok()) << plan.status();
    if (other == 1.0f) {
      // 1e-9 next to 1.0 is 1e-9 of the constant's norm: nothing fp16 rounding would not lose.
      EXPECT_TRUE(plan->warnings.empty()) << plan->warnings[0];
      continue;
    }
    ASSERT_EQ(plan->warnings.size(), 1u);
    EXPECT_NE(plan->warnings[0].find("'tiny' has 2 nonzero values that round to zero (100% of"),
              std::string::npos)
        << plan->warnings[0];
  }
}

TEST(PrecisionPlanTest, Fp16IoBelowIos16IsAnError) {
  ConvSoftmax m;
  absl::StatusOr<PrecisionPlan> plan =
      Plan(m.g, Options(Precision::kFp16, Target::kIos15, DType::kFloat16));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("ios16"), std::string::npos) << plan.status();
  // A bad combination of command-line flags: exit code 2 (usage).
  EXPECT_EQ(ClassOf(plan.status()), ErrorClass::kUsage);
  // fp16 I/O is fine from iOS16 on.
  EXPECT_TRUE(Plan(m.g, Options(Precision::kFp16, Target::kIos16, DType::kFloat16)).ok());
}

TEST(PrecisionPlanTest, NonFloatIoDtypeIsAnError) {
  ConvSoftmax m;
  EXPECT_FALSE(Plan(m.g, Options(Precision::kFp16, Target::kIos16, DType::kInt32)).ok());
}

TEST(PrecisionPlanTest, Fp16IoWithFp16PrecisionNeedsNoIoCasts) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
  const ValueId y = test::AddRelu(g, test::AddConv(g, x, 4));
  g.AddOutput("y", y);
  absl::StatusOr<PrecisionPlan> plan =
      Plan(g, Options(Precision::kFp16, Target::kIos16, DType::kFloat16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->casts.empty()) << Casts(*plan);
  EXPECT_EQ(plan->produced.at(x), DType::kFloat16);
  EXPECT_EQ(plan->produced.at(y), DType::kFloat16);
}

TEST(PrecisionPlanTest, Fp16IoWithSoftmaxCastsBackAtTheOutput) {
  ConvSoftmax m;
  absl::StatusOr<PrecisionPlan> plan =
      Plan(m.g, Options(Precision::kFp16, Target::kIos16, DType::kFloat16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->casts.size(), 2u) << Casts(*plan);
  EXPECT_EQ(plan->FindCast(m.x, DType::kFloat16), nullptr);
  EXPECT_NE(plan->FindCast(m.conv, DType::kFloat32), nullptr);
  const PlannedCast* out = plan->FindCast(m.sm, DType::kFloat16);
  ASSERT_NE(out, nullptr) << Casts(*plan);
  EXPECT_EQ(out->consumer, -1);
}

TEST(PrecisionPlanTest, UnloweredNodesAreNotPlanned) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {2, 3});
  Node& size = g.AddNode("aten::size", "int", {x, g.AddConstInt(1)}, 1);
  g.value(size.outputs[0]).kind = ValueKind::kInt;
  g.AddOutput("y", test::AddRelu(g, x));
  absl::StatusOr<PrecisionPlan> plan = Plan(g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->nodes[0].planned);
  EXPECT_TRUE(plan->nodes[1].planned);
}

// The planner's steps one by one (precision_plan_steps.h), on analyzed graphs.

/// The lowering analysis matched for each node of `g` (null for a node not lowered).
std::vector<const registry::Lowering*> Lowerings(Graph& g) {
  Analysis a = Analyze(g, test::BuiltinRegistry());
  EXPECT_TRUE(a.ok()) << AnalysisStatus(a);
  std::vector<const registry::Lowering*> out;
  for (const NodeAnalysis& na : a.nodes) out.push_back(na.lowering);
  return out;
}

/// Steps 1 to 3 for node `idx` (compute, parameter and input dtypes).
NodePlan PlanDtypes(const Graph& g, int idx, const registry::Lowering& l,
                    const PrecisionOptions& o) {
  NodePlan np;
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  ChooseComputeDtype(g, n, l, o, &np);
  ChooseParamDtype(l, o, &np);
  ChooseInputDtypes(g, n, l, o, &np);
  return np;
}

TEST(PrecisionPlanStepsTest, CheckPrecisionOptionsRefusesWhatNoTargetHonours) {
  EXPECT_TRUE(CheckPrecisionOptions(Options(Precision::kFp16, Target::kIos16)).ok());
  EXPECT_TRUE(
      CheckPrecisionOptions(Options(Precision::kFp16, Target::kIos16, DType::kFloat16)).ok());
  absl::Status s =
      CheckPrecisionOptions(Options(Precision::kFp16, Target::kIos15, DType::kFloat16));
  EXPECT_EQ(ClassOf(s), ErrorClass::kUsage);
  EXPECT_EQ(s.message(), "--io-dtype fp16 needs --target ios16 or later");
  s = CheckPrecisionOptions(Options(Precision::kFp32, Target::kIos17, DType::kInt32));
  EXPECT_EQ(ClassOf(s), ErrorClass::kUsage);
  EXPECT_EQ(s.message(), "--io-dtype must be fp16 or fp32");
}

TEST(PrecisionPlanStepsTest, ComputeDtypeFollowsTheRequestUnlessTheLoweringNeedsFp32) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  const Node& conv = m.g.nodes()[0];
  const Node& sm = m.g.nodes()[1];

  NodePlan np;
  ChooseComputeDtype(m.g, conv, *l[0], Options(Precision::kFp16, Target::kIos16), &np);
  EXPECT_EQ(np.compute, DType::kFloat16);
  EXPECT_EQ(np.reason, PrecisionReason::kRequestedFp16);
  EXPECT_EQ(np.detail, "");

  np = NodePlan();
  ChooseComputeDtype(m.g, sm, *l[1], Options(Precision::kFp16, Target::kIos16), &np);
  EXPECT_EQ(np.compute, DType::kFloat32);
  EXPECT_EQ(np.reason, PrecisionReason::kLoweringNeedsFp32);
  EXPECT_NE(np.detail.find("declares needs_fp32_compute"), std::string::npos) << np.detail;

  np = NodePlan();
  ChooseComputeDtype(m.g, sm, *l[1], Options(Precision::kFp32, Target::kIos16), &np);
  EXPECT_EQ(np.compute, DType::kFloat32);
  EXPECT_EQ(np.reason, PrecisionReason::kRequestedFp32);
  EXPECT_EQ(np.detail, "");

  PrecisionOptions all = Options(Precision::kFp16, Target::kIos16);
  all.fp16_all = true;
  np = NodePlan();
  ChooseComputeDtype(m.g, sm, *l[1], all, &np);
  EXPECT_EQ(np.compute, DType::kFloat16);
  EXPECT_EQ(np.reason, PrecisionReason::kRequestedFp16);
  EXPECT_NE(np.detail.find("--fp16-all overrides lowering"), std::string::npos) << np.detail;
}

TEST(PrecisionPlanStepsTest, AUserRuleWinsOverTheLoweringsPolicyUnderFp16Only) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[1]);
  NodePlan np;
  np.compute = DType::kFloat16;
  np.reason = PrecisionReason::kRequestedFp16;
  ApplyFp32Requests(m.g, m.g.nodes()[1], *l[1], Fp16Keeping("aten::softmax"), &np);
  EXPECT_EQ(np.compute, DType::kFloat32);
  EXPECT_EQ(np.reason, PrecisionReason::kUserRule);
  EXPECT_EQ(np.detail, "--keep-fp32 aten::softmax");

  PrecisionOptions fp32 = Fp16Keeping("aten::softmax");
  fp32.precision = Precision::kFp32;
  NodePlan untouched;
  untouched.compute = DType::kFloat32;
  untouched.reason = PrecisionReason::kRequestedFp32;
  ApplyFp32Requests(m.g, m.g.nodes()[1], *l[1], fp32, &untouched);
  EXPECT_EQ(untouched.reason, PrecisionReason::kRequestedFp32);
  EXPECT_EQ(untouched.detail, "");
}

TEST(PrecisionPlanStepsTest, Fp16InputLimitsNameTheConstantBeyondRange) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  const ValueId big = g.AddConstTensor("big", test::Filled({4}, 70000.0f));
  const ValueId small = g.AddConstTensor("small", test::Filled({4}, 2.0f));
  g.AddOutput("y", g.AddNode("aten::add", "Tensor", {x, big, g.AddConstInt(1)}, 1).outputs[0]);
  g.AddOutput("z", g.AddNode("aten::add", "Tensor", {x, small, g.AddConstInt(1)}, 1).outputs[0]);
  const std::vector<const registry::Lowering*> l = Lowerings(g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  for (int idx : {0, 1}) {
    NodePlan np;
    np.compute = DType::kFloat16;
    np.reason = PrecisionReason::kRequestedFp16;
    ApplyFp16InputLimits(g, g.nodes()[static_cast<size_t>(idx)], *l[static_cast<size_t>(idx)], &np);
    if (idx == 0) {
      EXPECT_EQ(np.compute, DType::kFloat32);
      EXPECT_EQ(np.reason, PrecisionReason::kConstantOutOfRange);
      EXPECT_EQ(np.detail, "constant 'big' reaches 70000, beyond FP16's 65504");
    } else {
      EXPECT_EQ(np.compute, DType::kFloat16);
      EXPECT_EQ(np.reason, PrecisionReason::kRequestedFp16);
    }
  }
}

TEST(PrecisionPlanStepsTest, ComputesInFloatTellsIntegerNodes) {
  Graph g;
  const ValueId i = g.AddInput("i", TypeClass::kInt, {4});
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  g.AddOutput("j", g.AddNode("aten::add", "Tensor", {i, i, g.AddConstInt(1)}, 1).outputs[0]);
  g.AddOutput("y", test::AddRelu(g, x));
  const std::vector<const registry::Lowering*> l = Lowerings(g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  bool any_int = false;
  EXPECT_FALSE(ComputesInFloat(g, g.nodes()[0], *l[0], &any_int));
  EXPECT_TRUE(any_int);
  EXPECT_TRUE(ComputesInFloat(g, g.nodes()[1], *l[1], &any_int));
  EXPECT_FALSE(any_int);

  NodePlan np;
  ChooseComputeDtype(g, g.nodes()[0], *l[0], Options(Precision::kFp16, Target::kIos16), &np);
  EXPECT_EQ(np.compute, DType::kInt32);
  EXPECT_EQ(np.reason, PrecisionReason::kNotFloat);
  ChooseParamDtype(*l[0], Options(Precision::kFp16, Target::kIos16), &np);
  EXPECT_EQ(np.param, DType::kFloat16);  // the requested float dtype
}

TEST(PrecisionPlanStepsTest, Fp32ParamsLoweringKeepsParamsFp32FromIos17) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  g.AddOutput("y", test::AddBatchNorm(g, x, 6, 1e-5));
  const std::vector<const registry::Lowering*> l = Lowerings(g);
  ASSERT_EQ(l.size(), 1u);
  ASSERT_TRUE(l[0]);
  NodePlan np;
  np.compute = DType::kFloat16;
  ChooseParamDtype(*l[0], Options(Precision::kFp16, Target::kIos17), &np);
  EXPECT_EQ(np.param, DType::kFloat32);
  EXPECT_EQ(np.param_detail, "parameters kept fp32 (iOS17+ allows them beside fp16 input)");

  np = NodePlan();
  np.compute = DType::kFloat16;
  ChooseParamDtype(*l[0], Options(Precision::kFp16, Target::kIos16), &np);
  EXPECT_EQ(np.param, DType::kFloat16);
  EXPECT_EQ(np.param_detail, "parameters stored fp16: ios16 needs them in the input's dtype");

  np = NodePlan();
  np.compute = DType::kFloat32;
  ChooseParamDtype(*l[0], Options(Precision::kFp32, Target::kIos16), &np);
  EXPECT_EQ(np.param, DType::kFloat32);
  EXPECT_EQ(np.param_detail, "");
}

TEST(PrecisionPlanStepsTest, InputDtypesLeaveHostIgnoredAndNoneInputsUnplanned) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  const PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  const NodePlan conv = PlanDtypes(m.g, 0, *l[0], o);
  ASSERT_EQ(conv.inputs.size(), 13u);
  EXPECT_EQ(conv.inputs[0], DType::kFloat16);
  EXPECT_EQ(conv.inputs[1], DType::kFloat16);
  EXPECT_EQ(conv.inputs[2], DType::kFloat16);
  EXPECT_EQ(conv.inputs[3], DType::kInvalid);
  EXPECT_EQ(conv.inputs[12], DType::kInvalid);
  const NodePlan sm = PlanDtypes(m.g, 1, *l[1], o);
  ASSERT_EQ(sm.inputs.size(), 3u);
  EXPECT_EQ(sm.inputs[0], DType::kFloat32);
  EXPECT_EQ(sm.inputs[1], DType::kInvalid);  // dim: host
  EXPECT_EQ(sm.inputs[2], DType::kInvalid);  // dtype: None
}

/// q, k, v (fp32 inputs) and a bool mask input m -> sdpa (attn_mask declared
/// T2C_INPUT_KEEPS_CLASS) and maximum(q, m) (type promotion: m becomes a float).
struct BoolMaskAttention {
  Graph g;
  ValueId q, m;
  BoolMaskAttention() {
    q = g.AddInput("q", TypeClass::kFloat, {2, 4, 8});
    const ValueId k = g.AddInput("k", TypeClass::kFloat, {2, 5, 8});
    const ValueId v = g.AddInput("v", TypeClass::kFloat, {2, 5, 8});
    m = g.AddInput("m", TypeClass::kBool, {4, 5});
    g.value(m).input_dtype = InputDtype::kBool;  // --input m:4x5:bool
    Node& sdpa = g.AddNode(
        "aten::_scaled_dot_product_attention", "",
        {q, k, v, m, g.AddConstFloat(0.0), g.AddConstBool(false), g.AddConstBool(false)}, 2);
    g.AddOutput("out", sdpa.outputs[0]);
    const ValueId mq = g.AddInput("mq", TypeClass::kBool, {2, 4, 8});
    g.AddOutput("max", g.AddNode("aten::maximum", "", {q, mq}, 1).outputs[0]);
  }
};

TEST(PrecisionPlanStepsTest, ABoolOperandKeepsItsClassWhereTheLoweringSaysSo) {
  BoolMaskAttention a;
  const std::vector<const registry::Lowering*> l = Lowerings(a.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  ASSERT_TRUE(l[0]->inputs[3].keeps_class());
  for (Precision p : {Precision::kFp16, Precision::kFp32}) {
    const PrecisionOptions o = Options(p, Target::kIos16);
    const NodePlan sdpa = PlanDtypes(a.g, 0, *l[0], o);
    EXPECT_EQ(sdpa.compute, DType::kFloat32);  // needs_fp32_compute under fp16
    EXPECT_EQ(sdpa.inputs[0], DType::kFloat32);
    EXPECT_EQ(sdpa.inputs[3], DType::kBool);  // the mask stays bool
    // An operand of maximum is promoted to the compute dtype, as PyTorch promotes it.
    const NodePlan max = PlanDtypes(a.g, 1, *l[1], o);
    EXPECT_EQ(max.inputs[1], p == Precision::kFp16 ? DType::kFloat16 : DType::kFloat32);
  }
  // The bool model input crosses the boundary as int32 and is cast to bool for the mask only.
  absl::StatusOr<PrecisionPlan> plan = Plan(a.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const PlannedCast* to_bool = plan->FindCast(a.m, DType::kBool);
  ASSERT_NE(to_bool, nullptr) << Casts(*plan);
  EXPECT_EQ(to_bool->from, DType::kInt32);
  EXPECT_EQ(plan->FindCast(a.m, DType::kFloat32), nullptr) << Casts(*plan);
  EXPECT_EQ(plan->FindCast(a.m, DType::kFloat16), nullptr) << Casts(*plan);
}

TEST(PrecisionPlanStepsTest, CastBookPlansOneCastPerValueAndDtype) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  const ValueId w = g.AddConstTensor("w", test::Ramp({16}));
  PrecisionPlan plan;
  plan.produced[x] = DType::kFloat32;
  CastBook casts(g, &plan);
  casts.CastRuntime(x, DType::kFloat16, 0, "first");
  casts.CastRuntime(x, DType::kFloat16, 1, "second");
  casts.CastRuntime(x, DType::kFloat32, 1, "already fp32");
  casts.CastRuntime(w, DType::kFloat16, 1, "not produced at run time");
  ASSERT_EQ(plan.casts.size(), 1u) << Casts(plan);
  EXPECT_EQ(plan.casts[0].consumer, 0);
  EXPECT_EQ(plan.casts[0].reason, "first");
  EXPECT_FALSE(plan.casts[0].constant);

  casts.UpcastWeight(w, 2, "weight");
  casts.UpcastWeight(w, 3, "again");
  ASSERT_EQ(plan.casts.size(), 2u) << Casts(plan);
  EXPECT_TRUE(plan.casts[1].constant);
  EXPECT_EQ(plan.casts[1].from, DType::kFloat16);
  EXPECT_EQ(plan.casts[1].to, DType::kFloat32);
  EXPECT_EQ(plan.casts[1].consumer, 2);

  casts.DropUpcastsOfExactConstants();
  EXPECT_EQ(plan.casts.size(), 2u) << Casts(plan);
  casts.ReadExactFp32(w);
  casts.DropUpcastsOfExactConstants();
  ASSERT_EQ(plan.casts.size(), 1u) << Casts(plan);
  EXPECT_EQ(plan.casts[0].value, x);
}

TEST(PrecisionPlanStepsTest, WeightUpcastsOnlyForLoweringsNeedingFp32) {
  LayerNorm m(test::Ramp({16}), test::Filled({16}, 0.25f));
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 1u);
  ASSERT_TRUE(l[0]);
  for (const PrecisionOptions& o :
       {Options(Precision::kFp16, Target::kIos16), Fp16Keeping("aten::layer_norm"),
        Options(Precision::kFp32, Target::kIos16)}) {
    PrecisionPlan plan;
    CastBook casts(m.g, &plan);
    const NodePlan np = PlanDtypes(m.g, 0, *l[0], o);
    PlanWeightUpcasts(m.g, 0, np, o, &casts);
    if (np.reason != PrecisionReason::kLoweringNeedsFp32) {
      EXPECT_TRUE(plan.casts.empty()) << Casts(plan);
      continue;
    }
    ASSERT_EQ(plan.casts.size(), 2u) << Casts(plan);
    EXPECT_EQ(plan.casts[0].value, m.w);
    EXPECT_EQ(plan.casts[1].value, m.b);
    EXPECT_TRUE(plan.casts[0].constant);
    EXPECT_EQ(
        plan.casts[0].reason,
        absl::StrCat("weight stored fp16; aten::layer_norm computes in fp32 (", np.detail, ")"));
  }
}

TEST(PrecisionPlanStepsTest, Fp16LossesAreWarnedPerConstant) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 6, 4, 4});
  const ValueId tiny = g.AddConstTensor("tiny", test::Filled({6, 1, 1}, 1e-9f));
  const ValueId bn = test::AddBatchNorm(g, x, 6, 1e-5);
  g.AddOutput("y", g.AddNode("aten::add", "Tensor", {bn, tiny, g.AddConstInt(1)}, 1).outputs[0]);
  const std::vector<const registry::Lowering*> l = Lowerings(g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  const PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  std::vector<std::string> warnings;
  WarnFp16Losses(g, g.nodes()[0], *l[0], PlanDtypes(g, 0, *l[0], o), &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("is not representable in fp16"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("--target ios17 keeps it fp32"), std::string::npos) << warnings[0];
  warnings.clear();
  WarnFp16Losses(g, g.nodes()[1], *l[1], PlanDtypes(g, 1, *l[1], o), &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "aten::add.Tensor: constant 'tiny' has 6 nonzero values that round to zero (100% of "
            "its L2 norm, the largest 1e-09) in fp16");
  warnings.clear();
  const PrecisionOptions ios17 = Options(Precision::kFp16, Target::kIos17);
  WarnFp16Losses(g, g.nodes()[0], *l[0], PlanDtypes(g, 0, *l[0], ios17), &warnings);
  EXPECT_TRUE(warnings.empty());
}

// Values that round to zero are warned about only when they matter to their tensor, and never in
// a bias the converter folded itself.
TEST(PrecisionPlanStepsTest, Fp16ZerosAreWarnedOnlyWhenTheyMatter) {
  std::vector<float> mostly_normal(64, 0.5f);
  mostly_normal[0] = 1e-9f;  // 2e-9 of the norm: far below one fp16 rounding
  struct Case {
    std::string name;
    std::shared_ptr<const ConstTensor> tensor;
    std::string expected;  // "" when no warning
  };
  const std::vector<Case> cases = {
      {"mostly_normal", MakeFloatTensor({64}, mostly_normal), ""},
      {"conv.weight.folded_bias", test::Filled({64}, 1e-8f), ""},
      {"tiny", test::Filled({64}, 1e-8f),
       "aten::add.Tensor: constant 'tiny' has 64 nonzero values that round to zero (100% of its L2 "
       "norm, the largest 1e-08) in fp16"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Graph g;
    const ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 64});
    const ValueId k = g.AddConstTensor(c.name, c.tensor);
    g.AddOutput("y", g.AddNode("aten::add", "Tensor", {x, k, g.AddConstInt(1)}, 1).outputs[0]);
    const std::vector<const registry::Lowering*> l = Lowerings(g);
    ASSERT_EQ(l.size(), 1u);
    ASSERT_TRUE(l[0]);
    std::vector<std::string> warnings;
    const PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
    WarnFp16Losses(g, g.nodes()[0], *l[0], PlanDtypes(g, 0, *l[0], o), &warnings);
    if (c.expected.empty()) {
      EXPECT_TRUE(warnings.empty()) << warnings[0];
    } else {
      EXPECT_THAT(warnings, ::testing::ElementsAre(c.expected));
    }
  }
}

TEST(PrecisionPlanStepsTest, OutputDtypesFollowTheComputeDtype) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0]);
  NodePlan np = PlanDtypes(m.g, 0, *l[0], Options(Precision::kFp16, Target::kIos16));
  std::map<ValueId, DType> produced;
  ChooseOutputDtypes(m.g, m.g.nodes()[0], &np, &produced);
  EXPECT_EQ(np.outputs, std::vector<DType>{DType::kFloat16});
  EXPECT_EQ(produced.size(), 1u);
  EXPECT_EQ(produced.at(m.conv), DType::kFloat16);
}

TEST(PrecisionPlanStepsTest, InputCastsSayWhyTheValueIsCast) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_EQ(l.size(), 2u);
  ASSERT_TRUE(l[0] && l[1]);
  const PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  PrecisionPlan plan;
  plan.produced[m.x] = DType::kFloat32;
  CastBook casts(m.g, &plan);
  NodePlan conv = PlanDtypes(m.g, 0, *l[0], o);
  ChooseOutputDtypes(m.g, m.g.nodes()[0], &conv, &plan.produced);
  PlanInputCasts(m.g, 0, conv, o, &casts);
  ASSERT_EQ(plan.casts.size(), 1u) << Casts(plan);  // weights are constants: never cast here
  EXPECT_EQ(plan.casts[0].reason, "model input 'x' is fp32; aten::_convolution computes in fp16");
  const NodePlan sm = PlanDtypes(m.g, 1, *l[1], o);
  PlanInputCasts(m.g, 1, sm, o, &casts);
  ASSERT_EQ(plan.casts.size(), 2u) << Casts(plan);
  EXPECT_EQ(plan.casts[1].value, m.conv);
  EXPECT_EQ(plan.casts[1].reason,
            absl::StrCat("aten::softmax.int computes in fp32 (", sm.detail, ")"));
}

TEST(PrecisionPlanStepsTest, OutputCastsBringRunTimeOutputsToTheIoDtype) {
  Graph g;
  const ValueId x = g.AddInput("x", TypeClass::kFloat, {4});
  const ValueId y = test::AddRelu(g, x);
  g.AddOutput("y", y);
  g.AddOutput("c", g.AddConstTensor("c", test::Ramp({4})));
  ASSERT_TRUE(Analyze(g, test::BuiltinRegistry()).ok());
  PrecisionPlan plan;
  plan.produced[x] = DType::kFloat32;
  plan.produced[y] = DType::kFloat16;
  CastBook casts(g, &plan);
  PlanOutputCasts(g, Options(Precision::kFp16, Target::kIos16), &casts);
  ASSERT_EQ(plan.casts.size(), 1u) << Casts(plan);
  EXPECT_EQ(plan.casts[0].value, y);
  EXPECT_EQ(plan.casts[0].consumer, -1);
  EXPECT_EQ(plan.casts[0].reason, "model output 'y' is fp32");
  plan.casts.clear();
  CastBook fp16_io(g, &plan);
  PlanOutputCasts(g, Options(Precision::kFp16, Target::kIos16, DType::kFloat16), &fp16_io);
  EXPECT_TRUE(plan.casts.empty()) << Casts(plan);
}

TEST(PrecisionPlanControlFlowTest, BlocksArePlannedWithCastsOnlyWhereDtypesDiffer) {
  test::ControlFlowGraph cf;
  absl::StatusOr<PrecisionPlan> plan = Plan(cf.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The cond's result is fp16; softmax computes in fp32, so its result is cast in its branch.
  EXPECT_EQ(plan->produced.at(cf.y), DType::kFloat16);
  const PlannedCast* down = plan->FindCast(cf.sm, DType::kFloat16);
  ASSERT_NE(down, nullptr) << Casts(*plan);
  EXPECT_EQ(down->consumer, cf.if_node);
  EXPECT_EQ(down->reason, "prim::If result 0 is fp16");
  // The loop's carried value is fp16 in the body and after it; its initial value, the fp32
  // model input, is cast once (for the softmax too: one cast per value and dtype).
  const Node& loop = cf.g.nodes()[static_cast<size_t>(cf.loop_node)];
  EXPECT_EQ(plan->produced.at(loop.blocks[0].inputs[1]), DType::kFloat16);
  EXPECT_EQ(plan->produced.at(cf.h), DType::kFloat16);
  EXPECT_NE(plan->FindCast(cf.x, DType::kFloat16), nullptr) << Casts(*plan);
  // tanh and add inside the body compute in fp16 and yield fp16: no cast at the body's end.
  EXPECT_EQ(plan->FindCast(loop.blocks[0].outputs[1], DType::kFloat16), nullptr);
  EXPECT_EQ(plan->nodes[static_cast<size_t>(cf.loop_node)].outputs,
            std::vector<DType>{DType::kFloat16});
}

TEST(PrecisionPlanControlFlowTest, Fp32HasNoCastsInBlocks) {
  test::ControlFlowGraph cf;
  absl::StatusOr<PrecisionPlan> plan = Plan(cf.g, Options(Precision::kFp32, Target::kIos16));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->casts.empty()) << Casts(*plan);
  EXPECT_EQ(plan->produced.at(cf.h), DType::kFloat32);
}

}  // namespace
}  // namespace ts2coreml::core

namespace ts2coreml::core {
namespace {

/// ConvSoftmax planned fp16 with a calibration that measured the softmax's exponent range
/// `range` and the conv output's peak `conv_peak`.
absl::StatusOr<PrecisionPlan> PlanCalibrated(ConvSoftmax& m, double range, double conv_peak,
                                             Calibration* c) {
  c->runs = 2;
  c->limits[1] = {range};
  c->values[m.conv].max_abs = conv_peak;
  c->values[m.conv].elements = 10;
  PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  o.calibration = c;
  return Plan(m.g, o);
}

TEST(PrecisionPlanCalibrationTest, TheSoftmaxDeclaresItsExponentRangeLimit) {
  ConvSoftmax m;
  const std::vector<const registry::Lowering*> l = Lowerings(m.g);
  ASSERT_TRUE(l[1]);
  ASSERT_EQ(l[1]->fp16_limits.size(), 1u);
  EXPECT_EQ(l[1]->fp16_limits[0].statistic, T2C_FP16_STAT_EXP_RANGE);
  EXPECT_EQ(l[1]->fp16_limits[0].axes, T2C_FP16_AXES_DIMS);
  EXPECT_EQ(l[1]->fp16_limits[0].bound, 2048.0);
}

TEST(PrecisionPlanCalibrationTest, AMeasuredRangeWithinTheLimitLetsTheSoftmaxComputeFp16) {
  ConvSoftmax m;
  Calibration c;
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 107.25, 3.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& sm = plan->nodes[1];
  EXPECT_EQ(sm.compute, DType::kFloat16);
  EXPECT_EQ(sm.reason, PrecisionReason::kRequestedFp16);
  EXPECT_NE(sm.detail.find("peaks at 107.25 (limit 2048)"), std::string::npos) << sm.detail;
  EXPECT_NE(sm.detail.find("within lowering"), std::string::npos) << sm.detail;
  // The input's cast into fp16 and the output's back: no transition in between.
  EXPECT_EQ(plan->FindCast(m.conv, DType::kFloat32), nullptr) << Casts(*plan);
  EXPECT_NE(plan->FindCast(m.sm, DType::kFloat32), nullptr) << Casts(*plan);
}

TEST(PrecisionPlanCalibrationTest, AMeasuredRangeBeyondTheLimitKeepsItFp32WithTheNumber) {
  ConvSoftmax m;
  Calibration c;
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 18342.5, 3.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& sm = plan->nodes[1];
  EXPECT_EQ(sm.compute, DType::kFloat32);
  EXPECT_EQ(sm.reason, PrecisionReason::kCalibratedLimit);
  EXPECT_NE(sm.detail.find("reaches 18342.5, beyond the 2048 lowering"), std::string::npos)
      << sm.detail;
  EXPECT_EQ(plan->nodes[0].compute, DType::kFloat16);  // the conv stays fp16
}

TEST(PrecisionPlanCalibrationTest, AnUnmeasuredLimitKeepsTheConservativePlan) {
  ConvSoftmax m;
  Calibration c;
  absl::StatusOr<PrecisionPlan> plan =
      PlanCalibrated(m, std::numeric_limits<double>::quiet_NaN(), 3.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[1].compute, DType::kFloat32);
  EXPECT_EQ(plan->nodes[1].reason, PrecisionReason::kLoweringNeedsFp32);
  EXPECT_NE(plan->nodes[1].detail.find("calibration did not measure"), std::string::npos);

  // Without calibration: today's plan, whatever the limits.
  absl::StatusOr<PrecisionPlan> plain = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->nodes[1].reason, PrecisionReason::kLoweringNeedsFp32);
  EXPECT_EQ(plain->nodes[1].detail.find("calibration"), std::string::npos);
}

TEST(PrecisionPlanCalibrationTest, AValueBeyondFp16KeepsItsProducerAndReadersFp32) {
  ConvSoftmax m;
  Calibration c;
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 5.0, 81234.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (int k : {0, 1}) {
    const NodePlan& np = plan->nodes[static_cast<size_t>(k)];
    EXPECT_EQ(np.compute, DType::kFloat32) << k;
    EXPECT_EQ(np.reason, PrecisionReason::kCalibratedRange) << k;
    EXPECT_NE(np.detail.find("reaches 81234, beyond fp16's 65504"), std::string::npos) << np.detail;
  }
  EXPECT_EQ(PrecisionReasonName(PrecisionReason::kCalibratedRange), "calibrated_range");
  EXPECT_EQ(PrecisionReasonName(PrecisionReason::kCalibratedLimit), "calibrated_limit");
}

/// `c` with one MIL-only var of node `node` (op `op`, var `var`) peaking at `peak`, a share
/// `below_normal` of its 100 elements below FP16's normal range.
void AddIntermediate(Calibration* c, int node, std::string op, std::string var, double peak,
                     int64_t below_normal = 0) {
  ValueRange r;
  r.max_abs = peak;
  r.elements = 100;
  r.below_normal = below_normal;
  c->intermediates[node].push_back(MilIntermediate{std::move(op), std::move(var), r});
}

TEST(PrecisionPlanCalibrationTest, AMilIntermediateBeyondFp16KeepsItsNodeFp32NamingTheVar) {
  ConvSoftmax m;
  Calibration c;
  AddIntermediate(&c, 0, "add", "conv_in_range", 1200.0);
  AddIntermediate(&c, 0, "mul", "x_sq", 9.0e4);
  AddIntermediate(&c, 0, "reduce_sum", "x_sq_sum", 7.5e5);
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 5.0, 3.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const NodePlan& conv = plan->nodes[0];
  EXPECT_EQ(conv.compute, DType::kFloat32);
  EXPECT_EQ(conv.reason, PrecisionReason::kMilIntermediate);
  // The first var beyond fp16 in emission order: where the overflow starts.
  EXPECT_EQ(conv.detail,
            "calibration: intermediate mul 'x_sq' of this op's MIL reaches 90000, beyond fp16's "
            "65504");
  EXPECT_EQ(plan->nodes[1].compute, DType::kFloat16);  // the softmax, within its limit
  EXPECT_EQ(PrecisionReasonName(PrecisionReason::kMilIntermediate), "calibrated_mil_intermediate");
}

TEST(PrecisionPlanCalibrationTest, MilIntermediatesWithinFp16OrFallingBelowItAreNoReason) {
  ConvSoftmax m;
  Calibration c;
  AddIntermediate(&c, 0, "mul", "x_sq", 65504.0);
  AddIntermediate(&c, 0, "mul", "tiny", 1e-6, /*below_normal=*/100);
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 5.0, 3.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[0].compute, DType::kFloat16);
  EXPECT_EQ(plan->nodes[0].reason, PrecisionReason::kRequestedFp16);
}

TEST(PrecisionPlanCalibrationTest, ATorchValueBeyondFp16IsNamedBeforeAnyMilIntermediate) {
  ConvSoftmax m;
  Calibration c;
  AddIntermediate(&c, 0, "mul", "x_sq", 9.0e4);
  absl::StatusOr<PrecisionPlan> plan = PlanCalibrated(m, 5.0, 81234.0, &c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->nodes[0].reason, PrecisionReason::kCalibratedRange);
  EXPECT_NE(plan->nodes[0].detail.find("reaches 81234"), std::string::npos);
}

TEST(PrecisionPlanCalibrationTest, MilIntermediatesNeedCalibrationAndFp16) {
  ConvSoftmax m;
  Calibration c;
  AddIntermediate(&c, 0, "mul", "x_sq", 9.0e4);
  PrecisionOptions o = Options(Precision::kFp32, Target::kIos16);
  o.calibration = &c;
  absl::StatusOr<PrecisionPlan> fp32 = Plan(m.g, o);
  ASSERT_TRUE(fp32.ok());
  EXPECT_EQ(fp32->nodes[0].reason, PrecisionReason::kRequestedFp32);
  absl::StatusOr<PrecisionPlan> plain = Plan(m.g, Options(Precision::kFp16, Target::kIos16));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->nodes[0].reason, PrecisionReason::kRequestedFp16);
}

TEST(PrecisionPlanCalibrationTest, UserRulesAndFp16AllStillWin) {
  ConvSoftmax m;
  Calibration c;
  c.limits[1] = {1e6};
  PrecisionOptions o = Options(Precision::kFp16, Target::kIos16);
  o.calibration = &c;
  o.fp16_all = true;
  absl::StatusOr<PrecisionPlan> plan = Plan(m.g, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->nodes[1].compute, DType::kFloat16);
  o.fp16_all = false;
  o.keep_fp32 = {*KeepFp32Rule::Parse("aten::softmax")};
  c.limits[1] = {1.0};
  plan = Plan(m.g, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->nodes[1].reason, PrecisionReason::kUserRule);
}

}  // namespace
}  // namespace ts2coreml::core
