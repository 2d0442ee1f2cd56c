/// Tests of the parity reductions: cosine_similarity's per-input clamped norms over broadcast
/// inputs, linalg_vecdot, trace's strided diagonal, mse_loss's reductions, and their refusals.
#include "reduction/parity_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reduction/reduction_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ReductionPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(ParityReductionTest, CosineBroadcastsThenNormalizesEachInput) {
  t::FakeNode n("aten::cosine_similarity");
  n.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Tensor({3, 1}));
  n.Add(t::Value::Int(-2)).Add(t::Value::Float(1e-6));
  ASSERT_TRUE(n.Lower(Decl("aten::cosine_similarity"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 4}));
  EXPECT_EQ(Decl("aten::cosine_similarity").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  EXPECT_EQ(n.op_types(),
            (Ops{"reshape", "tile", "mul", "reduce_sum", "sqrt", "maximum", "real_div", "mul",
                 "reduce_sum", "sqrt", "maximum", "real_div", "mul", "reduce_sum"}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "reps"), (Shape{2, 1, 4}));
  EXPECT_EQ(n.ArgInts(n.ops()[3], "axes"), (Shape{1}));
  EXPECT_NEAR(n.ArgScalar(n.ops()[5], "y"), 1e-6, 1e-12);
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{1}));
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "keep_dims"), 0);
}

TEST(ParityReductionTest, CosineRefusals) {
  t::FakeNode bad("aten::cosine_similarity");
  bad.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({4}));
  bad.Add(t::Value::Int(1)).Add(t::Value::Float(1e-8));
  EXPECT_FALSE(bad.Infer(Decl("aten::cosine_similarity")));
  EXPECT_NE(bad.error().find("shapes [2, 3] and [4] do not broadcast"), std::string::npos)
      << bad.error();
  t::FakeNode dim("aten::cosine_similarity");
  dim.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({2, 3}));
  dim.Add(t::Value::Int(2)).Add(t::Value::Float(1e-8));
  EXPECT_FALSE(dim.Infer(Decl("aten::cosine_similarity")));
  EXPECT_NE(dim.error().find("out of range"), std::string::npos) << dim.error();
}

TEST(ParityReductionTest, VecdotMultipliesAndSumsTheDim) {
  t::FakeNode n("aten::linalg_vecdot");
  n.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::Tensor({4})).Add(t::Value::Int(-1));
  ASSERT_TRUE(n.Lower(Decl("aten::linalg_vecdot"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{2, 3}));
  EXPECT_EQ(n.op_types(), (Ops{"mul", "reduce_sum"}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{2}));
  // The product already has the broadcast shape: nothing to tile.
  t::FakeNode b("aten::linalg_vecdot");
  b.Add(t::Value::Tensor({2, 1})).Add(t::Value::Tensor({1, 1})).Add(t::Value::Int(0));
  ASSERT_TRUE(b.Lower(Decl("aten::linalg_vecdot"))) << b.error();
  EXPECT_EQ(b.op_types(), (Ops{"mul", "reduce_sum"}));
}

TEST(ParityReductionTest, TraceSlicesEveryMPlusOneth) {
  t::FakeNode n("aten::trace");
  n.Add(t::Value::Tensor({3, 5}, T2C_DTYPE_INT32));
  ASSERT_TRUE(n.Lower(Decl("aten::trace"))) << n.error();
  EXPECT_EQ(n.inferred(), sdk::TensorType(T2C_DTYPE_INT32, {}));
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "slice_by_index", "reduce_sum"}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "end"), (Shape{13}));  // entries 0, 6, 12
  EXPECT_EQ(n.ArgInts(n.ops()[1], "stride"), (Shape{6}));
  t::FakeNode bad("aten::trace");
  bad.Add(t::Value::Tensor({2, 3, 4}));
  EXPECT_FALSE(bad.Infer(Decl("aten::trace")));
  EXPECT_NE(bad.error().find("expects a 2-d matrix"), std::string::npos) << bad.error();
}

TEST(ParityReductionTest, MseLossReductions) {
  const std::vector<std::pair<int64_t, Ops>> cases = {
      {0, {"sub", "mul"}}, {1, {"sub", "mul", "reduce_mean"}}, {2, {"sub", "mul", "reduce_sum"}}};
  for (const auto& [reduction, ops] : cases) {
    t::FakeNode n("aten::mse_loss");
    n.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3})).Add(t::Value::Int(reduction));
    ASSERT_TRUE(n.Lower(Decl("aten::mse_loss"))) << n.error();
    EXPECT_EQ(n.op_types(), ops) << reduction;
    EXPECT_EQ(n.inferred().shape, reduction == 0 ? (Shape{2, 3}) : Shape{}) << reduction;
  }
  t::FakeNode bad("aten::mse_loss");
  bad.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(3));
  EXPECT_FALSE(bad.Infer(Decl("aten::mse_loss")));
  EXPECT_NE(bad.error().find("reduction 3 is not one of"), std::string::npos) << bad.error();
}

t::FakeNode Nll(Shape x, Shape target, bool weight, int64_t reduction, int64_t ignore) {
  t::FakeNode n("aten::nll_loss_nd");
  n.Add(t::Value::Tensor(x)).Add(t::Value::Tensor(target, T2C_DTYPE_INT32));
  n.Add(weight ? t::Value::Tensor({x.size() == 1 ? x[0] : x[1]}) : t::Value::None());
  n.Add(t::Value::Int(reduction)).Add(t::Value::Int(ignore));
  return n;
}

TEST(ParityReductionTest, NllLossPicksWithOneHotSelects) {
  t::FakeNode n = Nll({2, 5, 3}, {2, 3}, true, 1, -100);
  ASSERT_TRUE(n.Lower(Decl("aten::nll_loss_nd"))) << n.error();
  EXPECT_EQ(n.inferred().shape, Shape{});
  EXPECT_EQ(n.op_types(),
            (Ops{"transpose", "reshape", "equal", "select", "reduce_sum", "not_equal", "select",
                 "reduce_sum", "select", "mul", "mul", "reduce_sum", "reduce_sum", "real_div"}));
  EXPECT_EQ(n.ArgInts(n.ops()[0], "perm"), (Shape{0, 2, 1}));  // classes last
  EXPECT_EQ(n.ArgInts(n.ops()[2], "y"), (Shape{0, 1, 2, 3, 4}));
  EXPECT_EQ(n.ArgScalar(n.ops()[5], "y"), -100);
  EXPECT_EQ(Decl("aten::nll_loss_nd").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);

  t::FakeNode none = Nll({4, 3}, {4}, false, 0, 1);
  ASSERT_TRUE(none.Lower(Decl("aten::nll_loss"))) << none.error();
  EXPECT_EQ(none.inferred().shape, (Shape{4}));
  EXPECT_EQ(none.OutputOp()->type, "mul");
  t::FakeNode sum = Nll({3}, {}, false, 2, -100);
  ASSERT_TRUE(sum.Lower(Decl("aten::nll_loss2d"))) << sum.error();
  EXPECT_EQ(sum.OutputOp()->type, "identity");
}

TEST(ParityReductionTest, NllLossRefusals) {
  t::FakeNode shape = Nll({2, 5, 3}, {2, 4}, false, 1, -100);
  EXPECT_FALSE(shape.Infer(Decl("aten::nll_loss_nd")));
  EXPECT_NE(shape.error().find("must have the shape of self [2, 5, 3] without its class dim"),
            std::string::npos)
      << shape.error();
  t::FakeNode weight("aten::nll_loss");
  weight.Add(t::Value::Tensor({2, 5})).Add(t::Value::Tensor({2}, T2C_DTYPE_INT32));
  weight.Add(t::Value::Tensor({4})).Add(t::Value::Int(1)).Add(t::Value::Int(-100));
  EXPECT_FALSE(weight.Infer(Decl("aten::nll_loss")));
  EXPECT_NE(weight.error().find("must have 5 entries"), std::string::npos) << weight.error();
  t::FakeNode reduction = Nll({2, 5}, {2}, false, 7, -100);
  EXPECT_FALSE(reduction.Infer(Decl("aten::nll_loss")));
  EXPECT_NE(reduction.error().find("reduction 7 is not one of"), std::string::npos);
}

t::FakeNode Searchsorted(Shape seq, Shape v, t::Value right, t::Value side,
                         t::Value sorter = t::Value::None()) {
  t::FakeNode n("aten::searchsorted.Tensor");
  n.Add(t::Value::Tensor(seq)).Add(t::Value::Tensor(v)).Add(t::Value::Bool(false));
  n.Add(right).Add(side).Add(sorter);
  return n;
}

TEST(ParityReductionTest, SearchsortedCountsEntriesBelow) {
  t::FakeNode n = Searchsorted({5}, {3, 4}, t::Value::Bool(false), t::Value::None());
  ASSERT_TRUE(n.Lower(Decl("aten::searchsorted.Tensor"))) << n.error();
  EXPECT_EQ(n.inferred(), sdk::TensorType(T2C_DTYPE_INT32, {3, 4}));
  EXPECT_EQ(n.op_types(), (Ops{"reshape", "reshape", "less", "select", "reduce_sum"}));
  EXPECT_EQ(n.ArgInts(n.ops()[0], "shape"), (Shape{3, 4, 1}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "shape"), (Shape{1, 5}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{2}));
  // side wins over right.
  t::FakeNode side = Searchsorted({2, 4}, {2, 3}, t::Value::Bool(false), t::Value::String("right"));
  ASSERT_TRUE(side.Lower(Decl("aten::searchsorted.Tensor"))) << side.error();
  EXPECT_EQ(side.ops()[2].type, "less_equal");
  EXPECT_EQ(side.ArgInts(side.ops()[1], "shape"), (Shape{2, 1, 4}));
}

TEST(ParityReductionTest, SearchsortedRefusals) {
  t::FakeNode sorter = Searchsorted({5}, {3}, t::Value::None(), t::Value::None(),
                                    t::Value::Tensor({5}, T2C_DTYPE_INT32));
  EXPECT_FALSE(sorter.Infer(Decl("aten::searchsorted.Tensor")));
  EXPECT_NE(sorter.error().find("sorter is not supported"), std::string::npos);
  t::FakeNode shapes = Searchsorted({2, 4}, {3, 3}, t::Value::None(), t::Value::None());
  EXPECT_FALSE(shapes.Infer(Decl("aten::searchsorted.Tensor")));
  EXPECT_NE(shapes.error().find("must share all but the last dim"), std::string::npos);
  t::FakeNode side = Searchsorted({5}, {3}, t::Value::None(), t::Value::String("up"));
  EXPECT_FALSE(side.Infer(Decl("aten::searchsorted.Tensor")));
  EXPECT_NE(side.error().find("side 'up'"), std::string::npos);
}

}  // namespace
}  // namespace ts2coreml::plugins
