/// Tests of aten::linear: shapes, MIL linear with explicit bias, runtime weights via matmul.
#include "linear/linear_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl() {
  const t2c_lowering_decl* d = t::FindDecl(LinearPluginInfo(), "aten::linear");
  EXPECT_NE(d, nullptr);
  return *d;
}

TEST(LinearTest, ConstWeightIsMilLinear) {
  t::FakeNode n("aten::linear");
  n.Add(t::Value::Tensor({1, 1280})).Add(t::Value::ConstTensor({1000, 1280}));
  n.Add(t::Value::ConstTensor({1000})).Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 1000}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "linear");
  EXPECT_EQ(op->ArgNames(), (std::vector<std::string>{"x", "weight", "bias"}));
  EXPECT_EQ(n.ArgInputIndex(*op, "weight"), 1);
  EXPECT_EQ(n.ArgInputIndex(*op, "bias"), 2);
  EXPECT_EQ(n.ArgType(*op, "weight").dtype, T2C_DTYPE_FP16);
}

TEST(LinearTest, MissingBiasIsExplicitZeros) {
  t::FakeNode n("aten::linear");
  n.Add(t::Value::Tensor({2, 3, 8})).Add(t::Value::ConstTensor({4, 8})).Add(t::Value::None());
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 3, 4}));
  const t::FakeOp* op = n.OutputOp();
  EXPECT_EQ(n.ArgValues(*op, "bias"), (std::vector<double>{0, 0, 0, 0}));
}

TEST(LinearTest, RuntimeWeightIsMatmul) {
  t::FakeNode n("aten::linear");
  n.Add(t::Value::Tensor({5, 8})).Add(t::Value::Tensor({4, 8})).Add(t::Value::ConstTensor({4}));
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"matmul", "add"}));
  const t::FakeOp* mm = n.FindOp("matmul");
  EXPECT_EQ(n.ArgScalar(*mm, "transpose_x"), 0);
  EXPECT_EQ(n.ArgScalar(*mm, "transpose_y"), 1);
  EXPECT_EQ(mm->output_types[0].shape, (Shape{5, 4}));
}

TEST(LinearTest, FeatureMismatchIsRefused) {
  t::FakeNode n("aten::linear");
  n.Add(t::Value::Tensor({5, 7})).Add(t::Value::ConstTensor({4, 8})).Add(t::Value::None());
  EXPECT_FALSE(n.Infer(Decl()));
  EXPECT_NE(n.error().find("input features 7 do not match weight [4, 8]"), std::string::npos)
      << n.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
