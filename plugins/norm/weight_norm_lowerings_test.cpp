/// Tests of _weight_norm and _weight_norm_interface: the norm's axes per dim (0, the last dim,
/// a middle dim, -1 as the whole tensor, other negative dims), g read per index by the fused
/// dims, the interface's norm output in g's shape, and the refusals.
#include "norm/weight_norm_lowerings.h"

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

t::FakeNode WeightNorm(const std::string& op, Shape v, Shape g, int64_t dim) {
  t::FakeNode n(op, op == "aten::_weight_norm_interface" ? 2 : 1);
  n.Add(t::Value::Tensor(v)).Add(t::Value::Tensor(g)).Add(t::Value::Int(dim));
  return n;
}

TEST(WeightNormTest, NormOverEveryDimButDim) {
  struct Case {
    Shape g;
    int64_t dim;
    Shape axes;
  };
  // v [4, 3, 5]: -1 is the whole tensor (norm_except_dim), -2 wraps to 1, -3 to 0.
  for (const Case& c : std::vector<Case>{{{4, 1, 1}, 0, {1, 2}},
                                         {{1, 3, 1}, 1, {0, 2}},
                                         {{1, 1, 5}, 2, {0, 1}},
                                         {{}, -1, {0, 1, 2}},
                                         {{1, 3, 1}, -2, {0, 2}},
                                         {{4, 1, 1}, -3, {1, 2}}}) {
    SCOPED_TRACE(c.dim);
    t::FakeNode n = WeightNorm("aten::_weight_norm", {4, 3, 5}, c.g, c.dim);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::_weight_norm"))) << n.error();
    EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
    EXPECT_EQ(n.op_types(), (Ops{"reduce_l2_norm", "real_div", "mul"}));
    EXPECT_EQ(n.ArgInts(*n.FindOp("reduce_l2_norm"), "axes"), c.axes);
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, {4, 3, 5}));
  }
}

TEST(WeightNormTest, FusedDimsReadGPerIndex) {
  // dim 0 with a flat g [4]: reshaped to the norm's [4, 1, 1], not broadcast against the last dim.
  t::FakeNode n = WeightNorm("aten::_weight_norm", {4, 3, 5}, {4}, 0);
  ASSERT_TRUE(n.Lower(Decl("aten::_weight_norm"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"reduce_l2_norm", "reshape", "real_div", "mul"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape"), "shape"), (Shape{4, 1, 1}));
  EXPECT_EQ(n.planned().shape, (Shape{4, 3, 5}));

  // A 1-D v normalised along its only dim: the norm of each element is its absolute value.
  t::FakeNode one = WeightNorm("aten::_weight_norm", {6}, {6}, 0);
  ASSERT_TRUE(one.Lower(Decl("aten::_weight_norm"))) << one.error();
  EXPECT_EQ(one.op_types(), (Ops{"abs", "real_div", "mul"}));
}

TEST(WeightNormTest, InterfaceGivesTheNormInGsShape) {
  t::FakeNode n = WeightNorm("aten::_weight_norm_interface", {4, 3, 5}, {5}, 2);
  ASSERT_TRUE(n.Lower(Decl("aten::_weight_norm_interface"))) << n.error();
  EXPECT_EQ(n.planned(0).shape, (Shape{4, 3, 5}));
  EXPECT_EQ(n.planned(1).shape, (Shape{5}));
  EXPECT_EQ(n.OutputOp(1)->type, "reshape");
  EXPECT_EQ(n.ArgInts(*n.FindOp("reduce_l2_norm"), "axes"), (Shape{0, 1}));

  t::FakeNode kept = WeightNorm("aten::_weight_norm_interface", {4, 3, 5}, {4, 1, 1}, 0);
  ASSERT_TRUE(kept.Lower(Decl("aten::_weight_norm_interface"))) << kept.error();
  EXPECT_EQ(kept.OutputOp(1)->type, "reduce_l2_norm");
  EXPECT_EQ(kept.planned(1).shape, (Shape{4, 1, 1}));
}

TEST(WeightNormTest, Refusals) {
  t::FakeNode middle = WeightNorm("aten::_weight_norm_interface", {4, 3, 5}, {1, 3, 1}, 1);
  EXPECT_FALSE(middle.Infer(Decl("aten::_weight_norm_interface")));
  EXPECT_NE(middle.error().find("aten::_weight_norm_interface: dim 1 of a rank-3 v is not "
                                "supported by PyTorch's kernel (only 0 and 2)"),
            std::string::npos)
      << middle.error();

  t::FakeNode range = WeightNorm("aten::_weight_norm", {4, 3}, {4, 1}, 2);
  EXPECT_FALSE(range.Infer(Decl("aten::_weight_norm")));
  EXPECT_NE(range.error().find("dim 2 is out of range for rank 2"), std::string::npos)
      << range.error();

  t::FakeNode count = WeightNorm("aten::_weight_norm", {4, 3}, {3}, 0);
  EXPECT_FALSE(count.Infer(Decl("aten::_weight_norm")));
  EXPECT_NE(count.error().find("must hold one value per index of dim 0"), std::string::npos)
      << count.error();

  t::FakeNode shape = WeightNorm("aten::_weight_norm", {4, 3, 5}, {1, 2, 1}, 1);
  EXPECT_FALSE(shape.Infer(Decl("aten::_weight_norm")));
  EXPECT_NE(shape.error().find("does not broadcast with v [4, 3, 5]"), std::string::npos)
      << shape.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
