/// Tests of the scaled-dot-product attention lowering: shapes and broadcasting, the 1/sqrt(E)
/// scale, float and causal masks, both outputs, the FP32 compute policy and the refusals.
#include "attention/attention_lowerings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(AttentionPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

/// An aten::_scaled_dot_product_attention node.
t::FakeNode Sdpa(Shape q, Shape k, Shape v, t::Value mask, double dropout, bool causal) {
  t::FakeNode n("aten::_scaled_dot_product_attention", 2);
  n.Add(t::Value::Tensor(q)).Add(t::Value::Tensor(k)).Add(t::Value::Tensor(v)).Add(mask);
  n.Add(t::Value::Float(dropout)).Add(t::Value::Bool(false)).Add(t::Value::Bool(causal));
  return n;
}

TEST(AttentionTest, SdpaShapesScaleAndOutputs) {
  struct Case {
    Shape q, k, v, weights, out;
  };
  for (const Case& c : std::vector<Case>{
           {{4, 8}, {6, 8}, {6, 3}, {4, 6}, {4, 3}},
           {{2, 4, 8}, {1, 5, 8}, {1, 5, 2}, {2, 4, 5}, {2, 4, 2}},
           {{2, 3, 4, 16}, {2, 3, 5, 16}, {2, 3, 5, 6}, {2, 3, 4, 5}, {2, 3, 4, 6}}}) {
    t::FakeNode n = Sdpa(c.q, c.k, c.v, t::Value::None(), 0.0, false);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl("aten::_scaled_dot_product_attention"))) << n.error();
    EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
    EXPECT_EQ(n.op_types(), (Ops{"matmul", "mul", "softmax", "matmul"}));
    EXPECT_EQ(n.ArgScalar(*n.FindOp("matmul"), "transpose_y"), 1);
    EXPECT_FLOAT_EQ(n.ArgScalar(*n.FindOp("mul"), "y"),
                    1.0f / std::sqrt(static_cast<float>(c.q.back())));
    EXPECT_EQ(n.ArgScalar(*n.FindOp("softmax"), "axis"), -1);
    EXPECT_EQ(n.inferred(0).shape, c.out);
    EXPECT_EQ(n.inferred(1).shape, c.weights);
    EXPECT_EQ(n.OutputOp(1)->type, "softmax");
    EXPECT_EQ(n.OutputOp(0)->type, "matmul");
  }
}

TEST(AttentionTest, SdpaFloatMaskAndCausal) {
  t::FakeNode masked = Sdpa({2, 3, 4}, {2, 3, 4}, {2, 3, 4}, t::Value::Tensor({3, 3}), 0.0, false);
  ASSERT_TRUE(masked.Lower(Decl("aten::_scaled_dot_product_attention"))) << masked.error();
  EXPECT_EQ(masked.op_types(), (Ops{"matmul", "mul", "add", "softmax", "matmul"}));
  EXPECT_EQ(masked.ArgInputIndex(*masked.FindOp("add"), "y"), 3);
  t::FakeNode n = Sdpa({2, 3, 4}, {2, 3, 4}, {2, 3, 4}, t::Value::None(), 0.0, true);
  ASSERT_TRUE(n.Lower(Decl("aten::_scaled_dot_product_attention"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"matmul", "mul", "add", "softmax", "matmul"}));
  const std::vector<double> causal = n.ArgValues(*n.FindOp("add"), "y");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(causal, (std::vector<double>{0, -inf, -inf, 0, 0, -inf, 0, 0, 0}));
  // Non-square: row i keeps columns 0..i.
  t::FakeNode wide = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::None(), 0.0, true);
  ASSERT_TRUE(wide.Lower(Decl("aten::_scaled_dot_product_attention"))) << wide.error();
  EXPECT_EQ(wide.ArgValues(*wide.FindOp("add"), "y"),
            (std::vector<double>{0, -inf, -inf, 0, 0, -inf}));
}

TEST(AttentionTest, SdpaBoolMaskSelectsTheScoresItKeeps) {
  // The bool mask keeps its class (T2C_INPUT_KEEPS_CLASS): True attends, False puts -inf.
  const t2c_lowering_decl& decl = Decl("aten::_scaled_dot_product_attention");
  ASSERT_NE(decl.inputs[3].flags & T2C_INPUT_KEEPS_CLASS, 0u);
  for (t2c_dtype precision : {T2C_DTYPE_FP32, T2C_DTYPE_FP16}) {
    t::FakeNode n =
        Sdpa({2, 4, 8}, {2, 5, 8}, {2, 5, 3}, t::Value::Tensor({4, 5}, T2C_DTYPE_BOOL), 0.0, false);
    n.Precision(precision);
    ASSERT_TRUE(n.Lower(decl)) << n.error();
    EXPECT_EQ(n.op_types(), (Ops{"matmul", "mul", "select", "softmax", "matmul"}));
    const auto& select = *n.FindOp("select");
    EXPECT_EQ(n.ArgInputIndex(select, "cond"), 3);
    EXPECT_EQ(n.ArgValues(select, "b"),
              (std::vector<double>{-std::numeric_limits<double>::infinity()}));
    EXPECT_EQ(n.inferred(1).shape, (Shape{2, 4, 5}));
  }
}

TEST(AttentionTest, SdpaRefusals) {
  t::FakeNode dropout = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::None(), 0.1, false);
  EXPECT_FALSE(dropout.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(dropout.error().find("dropout_p=0.1"), std::string::npos) << dropout.error();
  t::FakeNode bad_mask = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::Tensor({2, 2}), 0.0, false);
  EXPECT_FALSE(bad_mask.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(bad_mask.error().find("does not broadcast"), std::string::npos) << bad_mask.error();
  t::FakeNode both = Sdpa({2, 4}, {3, 4}, {3, 4}, t::Value::Tensor({2, 3}), 0.0, true);
  EXPECT_FALSE(both.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(both.error().find("attn_mask and is_causal=True"), std::string::npos) << both.error();
  t::FakeNode mismatch = Sdpa({2, 4}, {3, 5}, {3, 4}, t::Value::None(), 0.0, false);
  EXPECT_FALSE(mismatch.Lower(Decl("aten::_scaled_dot_product_attention")));
  EXPECT_NE(mismatch.error().find("do not match"), std::string::npos) << mismatch.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
