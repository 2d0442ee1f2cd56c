/// Tests of the activation family: op mapping, constant parameters in the compute dtype, hardtanh's
/// relu6/clip choice, softmax's FP16 policy and refusals.
#include "activation/activation_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ActivationPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(ActivationTest, UnaryOpsMapOneToOne) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"aten::relu", "relu"},
                                                                  {"aten::relu6", "relu6"},
                                                                  {"aten::sigmoid", "sigmoid"},
                                                                  {"aten::tanh", "tanh"},
                                                                  {"aten::silu", "silu"}};
  for (const auto& [op, mil] : cases) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({2, 3, 4})).Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl(op))) << op << ": " << n.error();
    EXPECT_EQ(n.op_types(), Ops{mil});
    EXPECT_EQ(n.OutputOp()->ArgNames(), std::vector<std::string>{"x"});
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {2, 3, 4}));
    EXPECT_EQ(Decl(op).infer_rule, T2C_INFER_SAME_AS_INPUT0);
  }
}

t::FakeNode Hardtanh(double lo, double hi) {
  t::FakeNode n("aten::hardtanh");
  n.Add(t::Value::Tensor({1, 8})).Add(t::Value::Float(lo)).Add(t::Value::Float(hi));
  return n;
}

TEST(ActivationTest, HardtanhZeroSixIsRelu6) {
  t::FakeNode n = Hardtanh(0, 6);
  ASSERT_TRUE(n.Lower(Decl("aten::hardtanh"))) << n.error();
  EXPECT_EQ(n.op_types(), Ops{"relu6"});
}

TEST(ActivationTest, HardtanhOtherRangesClip) {
  for (auto [lo, hi] : std::vector<std::pair<double, double>>{{-1, 1}, {0, 5}, {-2.5, 6}}) {
    t::FakeNode n = Hardtanh(lo, hi);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::hardtanh"))) << n.error();
    const t::FakeOp* clip = n.OutputOp();
    ASSERT_EQ(clip->type, "clip");
    EXPECT_EQ(n.ArgScalar(*clip, "alpha"), lo);
    EXPECT_EQ(n.ArgScalar(*clip, "beta"), hi);
    EXPECT_EQ(n.ArgType(*clip, "alpha"), sdk::TensorType(T2C_DTYPE_FP16, {}));
    EXPECT_EQ(n.ArgType(*clip, "beta"), sdk::TensorType(T2C_DTYPE_FP16, {}));
  }
}

TEST(ActivationTest, HardtanhWithIntBoundsReadsThemAsFloats) {
  t::FakeNode n("aten::hardtanh");
  n.Add(t::Value::Tensor({4})).Add(t::Value::Int(0)).Add(t::Value::Int(6));
  ASSERT_TRUE(n.Lower(Decl("aten::hardtanh"))) << n.error();
  EXPECT_EQ(n.op_types(), Ops{"relu6"});
}

TEST(ActivationTest, HardsigmoidIsSigmoidHard) {
  t::FakeNode n("aten::hardsigmoid");
  n.Add(t::Value::Tensor({1, 16, 1, 1}));
  ASSERT_TRUE(n.Lower(Decl("aten::hardsigmoid"))) << n.error();
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "sigmoid_hard");
  EXPECT_FLOAT_EQ(n.ArgScalar(*op, "alpha"), 1.0f / 6.0f);
  EXPECT_FLOAT_EQ(n.ArgScalar(*op, "beta"), 0.5f);
}

TEST(ActivationTest, HardswishIsXTimesSigmoidHard) {
  t::FakeNode n("aten::hardswish");
  n.Add(t::Value::Tensor({1, 16, 7, 7})).Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::hardswish"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"sigmoid_hard", "mul"}));
  const t::FakeOp* mul = n.OutputOp();
  const t::FakeOp* gate = n.FindOp("sigmoid_hard");
  EXPECT_EQ(n.ArgInputIndex(*mul, "x"), 0);
  EXPECT_EQ(n.ArgVar(*mul, "y"), gate->outputs[0]);
  EXPECT_EQ(n.ArgVar(*gate, "x"), n.ArgVar(*mul, "x"));
  EXPECT_EQ(n.ArgType(*gate, "alpha").dtype, T2C_DTYPE_FP16);
}

TEST(ActivationTest, GeluModes) {
  for (auto [approx, mode] : std::vector<std::pair<std::string, std::string>>{
           {"none", "EXACT"}, {"tanh", "TANH_APPROXIMATION"}}) {
    t::FakeNode n("aten::gelu");
    n.Add(t::Value::Tensor({2, 5})).Add(t::Value::String(approx));
    ASSERT_TRUE(n.Lower(Decl("aten::gelu"))) << n.error();
    EXPECT_EQ(n.ArgString(*n.OutputOp(), "mode"), mode);
  }
  t::FakeNode bad("aten::gelu");
  bad.Add(t::Value::Tensor({2, 5})).Add(t::Value::String("sigmoid"));
  EXPECT_FALSE(bad.Lower(Decl("aten::gelu")));
  EXPECT_NE(bad.error().find("gelu: approximate='sigmoid' is not supported"), std::string::npos);
}

TEST(ActivationTest, LeakyRelu) {
  t::FakeNode n("aten::leaky_relu");
  n.Add(t::Value::Tensor({2, 5})).Add(t::Value::Float(0.125));
  ASSERT_TRUE(n.Lower(Decl("aten::leaky_relu"))) << n.error();
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "alpha"), 0.125);
}

TEST(ActivationTest, SoftmaxNeedsFp32Compute) {
  EXPECT_EQ(Decl("aten::softmax.int").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  EXPECT_EQ(Decl("aten::log_softmax.int").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  t::FakeNode n("aten::softmax.int");
  n.Add(t::Value::Tensor({2, 10})).Add(t::Value::Int(-1)).Add(t::Value::None());
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::softmax.int"))) << n.error();
  EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "softmax");
  EXPECT_EQ(n.ArgScalar(*op, "axis"), 1);
  EXPECT_EQ(n.ArgType(*op, "x").dtype, T2C_DTYPE_FP32);
}

TEST(ActivationTest, SoftmaxDtypeArgument) {
  t::FakeNode ok("aten::softmax.int");
  ok.Add(t::Value::Tensor({3})).Add(t::Value::Int(0)).Add(t::Value::Int(6));  // torch.float
  EXPECT_TRUE(ok.Lower(Decl("aten::softmax.int"))) << ok.error();
  t::FakeNode bad("aten::softmax.int");
  bad.Add(t::Value::Tensor({3})).Add(t::Value::Int(0)).Add(t::Value::Int(4));  // torch.int64
  EXPECT_FALSE(bad.Infer(Decl("aten::softmax.int")));
  EXPECT_NE(bad.error().find("dtype (ScalarType 4) is not supported"), std::string::npos)
      << bad.error();
  t::FakeNode axis("aten::softmax.int");
  axis.Add(t::Value::Tensor({3, 4})).Add(t::Value::Int(2)).Add(t::Value::None());
  EXPECT_FALSE(axis.Infer(Decl("aten::softmax.int")));
  EXPECT_NE(axis.error().find("dim 2 is out of range for rank 2"), std::string::npos);
}

/// _softmax/_log_softmax(self, dim, half_to_float): the same lowering; half_to_float=True refused.
TEST(ActivationTest, UnderscoreSoftmaxReadsHalfToFloat) {
  for (const char* op : {"aten::_softmax", "aten::_log_softmax"}) {
    t::FakeNode ok(op);
    ok.Add(t::Value::Tensor({2, 5})).Add(t::Value::Int(-1)).Add(t::Value::Bool(false));
    ASSERT_TRUE(ok.Lower(Decl(op))) << ok.error();
    EXPECT_EQ(Decl(op).fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
    t::FakeNode half(op);
    half.Add(t::Value::Tensor({2, 5})).Add(t::Value::Int(-1)).Add(t::Value::Bool(true));
    EXPECT_FALSE(half.Infer(Decl(op)));
    EXPECT_NE(half.error().find("half_to_float=True is CUDA-only"), std::string::npos)
        << half.error();
  }
  t::FakeNode n("aten::_softmax");
  n.Add(t::Value::Tensor({2, 5})).Add(t::Value::Int(0)).Add(t::Value::Bool(false));
  ASSERT_TRUE(n.Lower(Decl("aten::_softmax"))) << n.error();
  EXPECT_EQ(n.op_types(), Ops{"softmax"});
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "axis"), 0);
}

TEST(ActivationTest, LogSoftmaxSubtractsLogSumExp) {
  t::FakeNode n("aten::log_softmax.int");
  n.Add(t::Value::Tensor({2, 7, 3})).Add(t::Value::Int(1)).Add(t::Value::None());
  ASSERT_TRUE(n.Lower(Decl("aten::log_softmax.int"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"reduce_log_sum_exp", "sub"}));
  const t::FakeOp* lse = n.FindOp("reduce_log_sum_exp");
  EXPECT_EQ(n.ArgInts(*lse, "axes"), (Shape{1}));
  EXPECT_EQ(n.ArgScalar(*lse, "keep_dims"), 1);
  EXPECT_EQ(lse->output_types[0].shape, (Shape{2, 1, 3}));
}

/// Lowers `op` on `args` (the first is the input tensor) in `precision`; EXPECTs success.
t::FakeNode LowerArgs(const std::string& op, const std::vector<t::Value>& args,
                      t2c_dtype precision = T2C_DTYPE_FP32) {
  t::FakeNode n(op);
  for (const t::Value& v : args) n.Add(v);
  n.Precision(precision);
  EXPECT_TRUE(n.Lower(Decl(op))) << op << ": " << n.error();
  return n;
}

/// The error of lowering `op` on `args` (which must fail).
std::string LowerError(const std::string& op, const std::vector<t::Value>& args) {
  t::FakeNode n(op);
  for (const t::Value& v : args) n.Add(v);
  EXPECT_FALSE(n.Lower(Decl(op))) << op;
  return n.error();
}

TEST(ActivationTest, EluFamilyParameters) {
  const t::Value x = t::Value::Tensor({2, 3});
  t::FakeNode plain = LowerArgs(
      "aten::elu", {x, t::Value::Float(0.5), t::Value::Int(1), t::Value::Int(1)}, T2C_DTYPE_FP16);
  EXPECT_EQ(plain.op_types(), Ops{"elu"});
  EXPECT_EQ(plain.ArgScalar(*plain.OutputOp(), "alpha"), 0.5);
  EXPECT_EQ(plain.ArgType(*plain.OutputOp(), "alpha"), sdk::TensorType(T2C_DTYPE_FP16, {}));

  t::FakeNode scaled =
      LowerArgs("aten::elu", {x, t::Value::Float(1), t::Value::Float(2), t::Value::Int(1)});
  EXPECT_EQ(scaled.op_types(), (Ops{"elu", "mul"}));
  EXPECT_EQ(scaled.ArgScalar(*scaled.OutputOp(), "y"), 2);

  t::FakeNode input_scaled =
      LowerArgs("aten::elu", {x, t::Value::Float(0.7), t::Value::Float(2), t::Value::Float(0.5)});
  EXPECT_EQ(input_scaled.op_types(), (Ops{"mul", "mul", "exp", "sub", "mul", "greater", "select"}));
  EXPECT_FLOAT_EQ(input_scaled.ArgScalar(*input_scaled.FindOp("mul", 2), "y"), 1.4);

  t::FakeNode selu = LowerArgs("aten::selu", {x});
  EXPECT_EQ(selu.op_types(), (Ops{"elu", "mul"}));
  EXPECT_FLOAT_EQ(selu.ArgScalar(*selu.FindOp("elu"), "alpha"), 1.6732632f);
  EXPECT_FLOAT_EQ(selu.ArgScalar(*selu.OutputOp(), "y"), 1.0507010f);

  t::FakeNode celu = LowerArgs("aten::celu", {x, t::Value::Float(0.5)});
  EXPECT_EQ(celu.OutputOp()->type, "select");
  EXPECT_EQ(celu.ArgScalar(*celu.FindOp("mul", 1), "y"), 2);  // x / alpha
  EXPECT_NE(LowerError("aten::celu", {x, t::Value::Float(0)}).find("alpha 0"), std::string::npos);
}

TEST(ActivationTest, SoftplusRevertsToIdentityAboveThreshold) {
  const t::Value x = t::Value::Tensor({4});
  t::FakeNode unit = LowerArgs("aten::softplus", {x, t::Value::Int(1), t::Value::Int(20)});
  EXPECT_EQ(unit.op_types(), (Ops{"softplus", "greater", "select"}));
  EXPECT_EQ(unit.ArgScalar(*unit.FindOp("greater"), "y"), 20);

  t::FakeNode beta = LowerArgs("aten::softplus", {x, t::Value::Float(2), t::Value::Float(1)});
  EXPECT_EQ(beta.op_types(), (Ops{"mul", "softplus", "real_div", "greater", "select"}));
  EXPECT_EQ(beta.ArgScalar(*beta.FindOp("real_div"), "y"), 2);
  EXPECT_NE(
      LowerError("aten::softplus", {x, t::Value::Float(0), t::Value::Float(1)}).find("beta 0"),
      std::string::npos);
}

TEST(ActivationTest, PreluBroadcastsItsWeightAlongChannels) {
  t::FakeNode n = LowerArgs(
      "aten::prelu", {t::Value::Tensor({2, 3, 4, 5}), t::Value::ConstTensor({3})}, T2C_DTYPE_FP16);
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "mul", "greater_equal", "select"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape"), "shape"), (Shape{3, 1, 1}));

  t::FakeNode single =
      LowerArgs("aten::prelu", {t::Value::Tensor({7}), t::Value::ConstTensor({1})});
  EXPECT_EQ(single.op_types(), (Ops{"mul", "greater_equal", "select"}));

  t::FakeNode bad("aten::prelu");
  bad.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::ConstTensor({4}));
  EXPECT_FALSE(bad.Infer(Decl("aten::prelu")));
  EXPECT_NE(bad.error().find("channels 3"), std::string::npos) << bad.error();
}

TEST(ActivationTest, RreluEvalIsLeakyReluAndTrainingIsRefused) {
  const t::Value x = t::Value::Tensor({4});
  t::FakeNode n = LowerArgs("aten::rrelu", {x, t::Value::Float(0.1), t::Value::Float(0.3),
                                            t::Value::Bool(false), t::Value::None()});
  EXPECT_EQ(n.op_types(), Ops{"leaky_relu"});
  EXPECT_FLOAT_EQ(n.ArgScalar(*n.OutputOp(), "alpha"), 0.2f);
  EXPECT_NE(LowerError("aten::rrelu", {x, t::Value::Float(0.1), t::Value::Float(0.3),
                                       t::Value::Bool(true), t::Value::None()})
                .find("training=True"),
            std::string::npos);
}

TEST(ActivationTest, GluSplitsTheDimInHalves) {
  t::FakeNode n = LowerArgs("aten::glu", {t::Value::Tensor({2, 6, 5}), t::Value::Int(-2)});
  EXPECT_EQ(n.op_types(), (Ops{"split", "sigmoid", "mul"}));
  EXPECT_EQ(n.ArgScalar(*n.FindOp("split"), "axis"), 1);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, {2, 3, 5}));
  t::FakeNode odd("aten::glu");
  odd.Add(t::Value::Tensor({2, 5})).Add(t::Value::Int(1));
  EXPECT_FALSE(odd.Infer(Decl("aten::glu")));
  EXPECT_NE(odd.error().find("even size"), std::string::npos) << odd.error();
}

TEST(ActivationTest, ShrinksAndThreshold) {
  const t::Value x = t::Value::Tensor({4});
  t::FakeNode hard = LowerArgs("aten::hardshrink", {x, t::Value::Float(0.5)});
  EXPECT_EQ(hard.op_types(), (Ops{"abs", "greater", "select"}));
  t::FakeNode soft = LowerArgs("aten::softshrink", {x, t::Value::Float(0.5)});
  EXPECT_EQ(soft.op_types(), (Ops{"clip", "sub"}));
  EXPECT_EQ(soft.ArgScalar(*soft.FindOp("clip"), "alpha"), -0.5);
  EXPECT_EQ(soft.ArgScalar(*soft.FindOp("clip"), "beta"), 0.5);
  EXPECT_NE(LowerError("aten::softshrink", {x, t::Value::Float(-1)}).find("at least 0"),
            std::string::npos);

  t::FakeNode ints = LowerArgs("aten::threshold", {t::Value::Tensor({4}, T2C_DTYPE_INT32),
                                                   t::Value::Float(-1.5), t::Value::Float(7.9)});
  EXPECT_EQ(ints.op_types(), (Ops{"greater", "select"}));
  EXPECT_EQ(ints.ArgScalar(*ints.FindOp("greater"), "y"), -1);
  EXPECT_EQ(ints.ArgScalar(*ints.OutputOp(), "b"), 7);
  EXPECT_EQ(ints.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4}));
}

TEST(ActivationTest, LogitClampsWithEps) {
  const t::Value x = t::Value::Tensor({4});
  t::FakeNode plain = LowerArgs("aten::logit", {x, t::Value::None()}, T2C_DTYPE_FP16);
  EXPECT_EQ(plain.op_types(), (Ops{"sub", "real_div", "log"}));
  EXPECT_EQ(plain.compute_dtype(), T2C_DTYPE_FP32);
  t::FakeNode eps = LowerArgs("aten::logit", {x, t::Value::Float(0.25)});
  EXPECT_EQ(eps.op_types(), (Ops{"clip", "sub", "real_div", "log"}));
  EXPECT_EQ(eps.ArgScalar(*eps.FindOp("clip"), "beta"), 0.75);
  EXPECT_NE(LowerError("aten::logit", {x, t::Value::Float(0.75)}).find("outside [0, 0.5]"),
            std::string::npos);
}

TEST(ActivationTest, MishAndLogSigmoid) {
  const t::Value x = t::Value::Tensor({4});
  EXPECT_EQ(LowerArgs("aten::mish", {x}).op_types(), (Ops{"softplus", "tanh", "mul"}));
  t::FakeNode ls = LowerArgs("aten::log_sigmoid", {x});
  EXPECT_EQ(ls.op_types(), (Ops{"mul", "softplus", "mul"}));
  EXPECT_EQ(ls.ArgScalar(*ls.OutputOp(), "y"), -1);
}

}  // namespace
}  // namespace ts2coreml::plugins
