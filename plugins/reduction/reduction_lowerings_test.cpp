/// Tests of the reduction family: axes, keepdim, reduce-all, dtype refusals.
#include "reduction/reduction_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ReductionPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode Mean(Shape x, t::Value dim, bool keepdim, t::Value dtype = t::Value::None()) {
  t::FakeNode n("aten::mean.dim");
  n.Add(t::Value::Tensor(x)).Add(dim).Add(t::Value::Bool(keepdim)).Add(dtype);
  return n;
}

TEST(ReductionTest, MeanDimKeepdim) {
  t::FakeNode n = Mean({1, 576, 7, 7}, t::Value::Ints({-1, -2}), true);
  ASSERT_TRUE(n.Lower(Decl("aten::mean.dim"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 576, 1, 1}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "reduce_mean");
  EXPECT_EQ(n.ArgInts(*op, "axes"), (Shape{2, 3}));
  EXPECT_EQ(n.ArgScalar(*op, "keep_dims"), 1);
}

TEST(ReductionTest, MeanAllDims) {
  t::FakeNode n = Mean({2, 3}, t::Value::None(), false);
  ASSERT_TRUE(n.Lower(Decl("aten::mean.dim"))) << n.error();
  EXPECT_EQ(n.inferred().shape, Shape{});
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{0, 1}));
}

TEST(ReductionTest, MeanRefusesIntDtypeAndBadDims) {
  t::FakeNode dtype = Mean({2, 3}, t::Value::Ints({1}), false, t::Value::Int(3));
  EXPECT_FALSE(dtype.Infer(Decl("aten::mean.dim")));
  EXPECT_NE(dtype.error().find("dtype (ScalarType 3) is not supported"), std::string::npos);
  t::FakeNode dims = Mean({2, 3}, t::Value::Ints({1, -1}), false);
  EXPECT_FALSE(dims.Infer(Decl("aten::mean.dim")));
  EXPECT_NE(dims.error().find("repeats a dimension"), std::string::npos) << dims.error();
}

TEST(ReductionTest, SumKeepsIntAndAmax) {
  t::FakeNode s("aten::sum.dim_IntList");
  s.Add(t::Value::Tensor({4, 5}, T2C_DTYPE_INT32)).Add(t::Value::Ints({0}));
  s.Add(t::Value::Bool(false)).Add(t::Value::None());
  ASSERT_TRUE(s.Lower(Decl("aten::sum.dim_IntList"))) << s.error();
  EXPECT_EQ(s.planned(), sdk::TensorType(T2C_DTYPE_INT32, {5}));
  EXPECT_EQ(s.OutputOp()->type, "reduce_sum");
  t::FakeNode m("aten::amax");
  m.Add(t::Value::Tensor({4, 5})).Add(t::Value::Ints({1})).Add(t::Value::Bool(true));
  ASSERT_TRUE(m.Lower(Decl("aten::amax"))) << m.error();
  EXPECT_EQ(m.inferred().shape, (Shape{4, 1}));
  EXPECT_EQ(m.OutputOp()->type, "reduce_max");
}

}  // namespace
}  // namespace ts2coreml::plugins
