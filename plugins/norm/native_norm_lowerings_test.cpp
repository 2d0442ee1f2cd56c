/// Tests of native_layer_norm: three outputs (values and the kept-dim statistics), the emitted
/// decomposition, and shape refusals.
#include "norm/native_norm_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "norm/norm_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(NormPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(NativeNormTest, NativeLayerNormGivesValuesMeanAndRstd) {
  t::FakeNode n("aten::native_layer_norm", 3);
  n.Add(t::Value::Tensor({2, 5, 8})).Add(t::Value::Ints({5, 8}));
  n.Add(t::Value::Tensor({5, 8})).Add(t::Value::None()).Add(t::Value::Float(1e-5));
  ASSERT_TRUE(n.Lower(Decl("aten::native_layer_norm"))) << n.error();
  EXPECT_EQ(n.op_types(),
            (Ops{"reduce_mean", "sub", "mul", "reduce_mean", "add", "rsqrt", "mul", "mul"}));
  EXPECT_EQ(n.ArgInts(n.ops()[0], "axes"), (Shape{1, 2}));
  EXPECT_EQ(n.ArgScalar(n.ops()[0], "keep_dims"), 1);
  EXPECT_EQ(n.OutputOp(1)->type, "reduce_mean");
  EXPECT_EQ(n.OutputOp(2)->type, "rsqrt");
  EXPECT_EQ(Decl("aten::native_layer_norm").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
}

TEST(NativeNormTest, NativeLayerNormRefusesMismatchedShapes) {
  t::FakeNode n("aten::native_layer_norm", 3);
  n.Add(t::Value::Tensor({2, 5, 8})).Add(t::Value::Ints({5}));
  n.Add(t::Value::None()).Add(t::Value::None()).Add(t::Value::Float(1e-5));
  EXPECT_FALSE(n.Infer(Decl("aten::native_layer_norm")));
  EXPECT_NE(n.error().find("does not match the trailing dims"), std::string::npos) << n.error();
  t::FakeNode w("aten::native_layer_norm", 3);
  w.Add(t::Value::Tensor({2, 5, 8})).Add(t::Value::Ints({8}));
  w.Add(t::Value::Tensor({5})).Add(t::Value::None()).Add(t::Value::Float(1e-5));
  EXPECT_FALSE(w.Infer(Decl("aten::native_layer_norm")));
  EXPECT_NE(w.error().find("must have the normalized shape [8]"), std::string::npos) << w.error();
}

t::FakeNode GroupNorm(Shape x, int64_t hxw, int64_t groups, bool affine) {
  t::FakeNode n("aten::native_group_norm", 3);
  n.Add(t::Value::Tensor(x));
  n.Add(affine ? t::Value::Tensor({x[1]}) : t::Value::None());
  n.Add(affine ? t::Value::Tensor({x[1]}) : t::Value::None());
  n.Add(t::Value::Int(x[0])).Add(t::Value::Int(x[1])).Add(t::Value::Int(hxw));
  n.Add(t::Value::Int(groups)).Add(t::Value::Float(1e-5));
  return n;
}

TEST(NativeNormTest, NativeGroupNormStatisticsPerGroup) {
  t::FakeNode n = GroupNorm({2, 6, 4, 5}, 20, 3, true);
  ASSERT_TRUE(n.Lower(Decl("aten::native_group_norm"))) << n.error();
  EXPECT_EQ(n.ArgInts(n.ops()[0], "shape"), (Shape{2, 3, 40}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reduce_mean", 0), "axes"), (Shape{2}));
  EXPECT_EQ(n.OutputOp(0)->type, "add");  // the bias, last
  EXPECT_EQ(n.ArgInts(*n.OutputOp(1), "shape"), (Shape{2, 3}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(2), "shape"), (Shape{2, 3}));
  t::FakeNode bad = GroupNorm({2, 6, 4, 5}, 20, 4, false);
  EXPECT_FALSE(bad.Infer(Decl("aten::native_group_norm")));
  EXPECT_NE(bad.error().find("group 4 do not describe input [2, 6, 4, 5]"), std::string::npos)
      << bad.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
