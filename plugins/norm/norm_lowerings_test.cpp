/// Tests of the norm family: batch_norm's FP32_PARAMS policy and PARAM roles, defaults for missing
/// affine parameters, rank handling and refusals; layer_norm's axes.
#include "norm/norm_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(NormPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode BatchNorm(Shape x, bool affine, bool stats, bool training) {
  const int64_t c = x[1];
  t::FakeNode n("aten::batch_norm");
  n.Add(t::Value::Tensor(x));
  n.Add(affine ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(affine ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(stats ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(stats ? t::Value::ConstTensor({c}) : t::Value::None());
  n.Add(t::Value::Bool(training)).Add(t::Value::Float(0.1)).Add(t::Value::Float(1e-5));
  n.Add(t::Value::Bool(true));
  return n;
}

TEST(NormTest, BatchNormDeclaration) {
  const t2c_lowering_decl& d = Decl("aten::batch_norm");
  EXPECT_EQ(d.fp16_policy, T2C_FP16_FP32_PARAMS);
  ASSERT_EQ(d.num_inputs, 9u);
  EXPECT_EQ(d.inputs[0].role, T2C_ROLE_TENSOR);
  for (int i : {1, 2, 3, 4, 7}) EXPECT_EQ(d.inputs[i].role, T2C_ROLE_PARAM) << i;
  EXPECT_EQ(d.inputs[5].role, T2C_ROLE_HOST);
  EXPECT_EQ(d.infer_rule, T2C_INFER_SAME_AS_INPUT0);
}

TEST(NormTest, BatchNormFp16WithFp32Params) {
  t::FakeNode n = BatchNorm({1, 8, 4, 4}, true, true, false);
  n.Precision(T2C_DTYPE_FP16, /*fp32_params_allowed=*/true);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  const t::FakeOp* bn = n.OutputOp();
  ASSERT_EQ(bn->type, "batch_norm");
  EXPECT_EQ(bn->ArgNames(),
            (std::vector<std::string>{"x", "mean", "variance", "gamma", "beta", "epsilon"}));
  EXPECT_EQ(n.ArgType(*bn, "x").dtype, T2C_DTYPE_FP16);
  for (const char* p : {"mean", "variance", "gamma", "beta", "epsilon"}) {
    EXPECT_EQ(n.ArgType(*bn, p).dtype, T2C_DTYPE_FP32) << p;
  }
  EXPECT_EQ(n.ArgInputIndex(*bn, "mean"), 3);
  EXPECT_EQ(n.ArgInputIndex(*bn, "variance"), 4);
  EXPECT_EQ(n.ArgInputIndex(*bn, "gamma"), 1);
  EXPECT_EQ(n.ArgInputIndex(*bn, "beta"), 2);
  EXPECT_EQ(n.ArgType(*bn, "epsilon"), sdk::TensorType(T2C_DTYPE_FP32, {}));
  EXPECT_FLOAT_EQ(n.ArgScalar(*bn, "epsilon"), 1e-5);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 8, 4, 4}));
}

TEST(NormTest, BatchNormWithoutAffineGetsOnesAndZeros) {
  t::FakeNode n = BatchNorm({2, 3, 5}, false, true, false);
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  const t::FakeOp* bn = n.OutputOp();
  EXPECT_EQ(n.ArgValues(*bn, "gamma"), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(n.ArgValues(*bn, "beta"), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(n.ArgType(*bn, "gamma"), sdk::TensorType(T2C_DTYPE_FP16, {3}));
}

TEST(NormTest, BatchNormRank2IsExpanded) {
  t::FakeNode n = BatchNorm({4, 6}, true, true, false);
  ASSERT_TRUE(n.Lower(Decl("aten::batch_norm"))) << n.error();
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"expand_dims", "batch_norm", "squeeze"}));
  EXPECT_EQ(n.FindOp("batch_norm")->output_types[0].shape, (Shape{4, 6, 1}));
}

TEST(NormTest, BatchNormTrainingIsRefused) {
  t::FakeNode no_stats = BatchNorm({1, 4, 2, 2}, true, false, true);
  EXPECT_FALSE(no_stats.Lower(Decl("aten::batch_norm")));
  EXPECT_NE(no_stats.error().find("running statistics are missing"), std::string::npos)
      << no_stats.error();
  t::FakeNode training = BatchNorm({1, 4, 2, 2}, true, true, true);
  EXPECT_FALSE(training.Lower(Decl("aten::batch_norm")));
  EXPECT_NE(training.error().find("model.eval()"), std::string::npos) << training.error();
}

TEST(NormTest, LayerNormOverTrailingDims) {
  t::FakeNode n("aten::layer_norm");
  n.Add(t::Value::Tensor({2, 5, 8})).Add(t::Value::Ints({5, 8})).Add(t::Value::None());
  n.Add(t::Value::ConstTensor({5, 8})).Add(t::Value::Float(1e-6)).Add(t::Value::Bool(true));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::layer_norm"))) << n.error();
  EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
  const t::FakeOp* ln = n.OutputOp();
  ASSERT_EQ(ln->type, "layer_norm");
  EXPECT_EQ(n.ArgInts(*ln, "axes"), (Shape{1, 2}));
  EXPECT_EQ(n.ArgType(*ln, "gamma"), sdk::TensorType(T2C_DTYPE_FP32, {5, 8}));
  EXPECT_EQ(n.ArgInputIndex(*ln, "beta"), 3);
}

}  // namespace
}  // namespace ts2coreml::plugins
