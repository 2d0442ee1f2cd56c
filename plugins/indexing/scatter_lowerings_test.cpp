/// Tests of the scatter lowerings: the one-hot plan per mode, index ops, refusals.
#include "indexing/scatter_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "indexing/indexing_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using sdk::TensorType;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(IndexingPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode Scatter(const std::string& op, Shape x, int64_t dim, Shape index, t::Value src) {
  t::FakeNode n(op);
  n.Add(t::Value::Tensor(x)).Add(t::Value::Int(dim));
  n.Add(t::Value::Tensor(index, T2C_DTYPE_INT32)).Add(src);
  return n;
}

TEST(ScatterTest, WriteTakesTheLastHit) {
  t::FakeNode n = Scatter("aten::scatter.src", {3, 5}, -1, {3, 2}, t::Value::Tensor({4, 6}));
  ASSERT_TRUE(n.Lower(Decl("aten::scatter.src"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{3, 5}));
  // The source is cut to the index; hit is [3, 2, 5].
  EXPECT_EQ(n.ArgInts(*n.FindOp("slice_by_size", 0), "size"), (Shape{3, 2}));
  EXPECT_EQ(n.FindOp("equal", 0)->output_types[0].shape, (Shape{3, 2, 5}));
  EXPECT_NE(n.FindOp("gather_along_axis", 0), nullptr);
  EXPECT_EQ(n.OutputOp()->type, "select");
}

TEST(ScatterTest, ValueAndReductions) {
  t::FakeNode v = Scatter("aten::scatter.value", {4, 3}, 0, {2, 3}, t::Value::Float(2.5));
  ASSERT_TRUE(v.Lower(Decl("aten::scatter.value"))) << v.error();
  EXPECT_EQ(v.FindOp("gather_along_axis", 0), nullptr);

  struct Case {
    std::string op, reduce;
    bool include_self;
    std::string reduce_op, combine;
  };
  const std::vector<Case> cases = {
      {"aten::scatter_add", "", true, "reduce_sum", "add"},
      {"aten::scatter.reduce", "multiply", true, "reduce_prod", "mul"},
      {"aten::scatter_reduce.two", "amax", true, "reduce_max", "maximum"},
      {"aten::scatter_reduce.two", "amin", false, "reduce_min", ""},
      {"aten::scatter_reduce.two", "mean", true, "reduce_sum", "real_div"},
      {"aten::scatter_reduce.two", "sum", false, "reduce_sum", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " " + c.reduce);
    t::FakeNode n = Scatter(c.op, {4, 3}, 0, {2, 3}, t::Value::Tensor({2, 3}));
    if (!c.reduce.empty()) n.Add(t::Value::String(c.reduce));
    if (c.op == "aten::scatter_reduce.two") n.Add(t::Value::Bool(c.include_self));
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl(c.op))) << n.error();
    EXPECT_NE(n.FindOp(c.reduce_op, 0), nullptr);
    if (!c.combine.empty()) EXPECT_NE(n.FindOp(c.combine, 0), nullptr);
    if (!c.include_self) EXPECT_EQ(n.FindOp("add", 0), nullptr);
    EXPECT_EQ(n.planned(), TensorType(T2C_DTYPE_FP16, {4, 3}));
  }
}

TEST(ScatterTest, IndexOpsLayTheIndexAlongDim) {
  t::FakeNode add("aten::index_add");
  add.Add(t::Value::Tensor({5, 3})).Add(t::Value::Int(0));
  add.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({4, 3}));
  add.Add(t::Value::Float(2));
  ASSERT_TRUE(add.Lower(Decl("aten::index_add"))) << add.error();
  EXPECT_EQ(add.ArgInts(*add.FindOp("tile", 0), "reps"), (Shape{1, 3}));
  EXPECT_NE(add.FindOp("mul", 0), nullptr);  // alpha

  t::FakeNode fill("aten::index_fill.int_Scalar");
  fill.Add(t::Value::Tensor({2, 6})).Add(t::Value::Int(-1));
  fill.Add(t::Value::Tensor({2}, T2C_DTYPE_INT32)).Add(t::Value::Float(-1));
  ASSERT_TRUE(fill.Lower(Decl("aten::index_fill.int_Scalar"))) << fill.error();
  EXPECT_EQ(fill.ArgInts(*fill.FindOp("reshape", 0), "shape"), (Shape{1, 2}));
}

TEST(ScatterTest, Refusals) {
  t::FakeNode narrow = Scatter("aten::scatter.src", {3, 5}, 1, {2, 2}, t::Value::Tensor({3, 5}));
  EXPECT_FALSE(narrow.Infer(Decl("aten::scatter.src")));
  EXPECT_NE(narrow.error().find("is not supported"), std::string::npos) << narrow.error();

  t::FakeNode reduce = Scatter("aten::scatter.reduce", {3, 5}, 1, {3, 2}, t::Value::Tensor({3, 2}));
  reduce.Add(t::Value::String("mean"));
  EXPECT_FALSE(reduce.Infer(Decl("aten::scatter.reduce")));

  t::FakeNode mean("aten::scatter_reduce.two");
  mean.Add(t::Value::Tensor({3, 5}, T2C_DTYPE_INT32)).Add(t::Value::Int(1));
  mean.Add(t::Value::Tensor({3, 2}, T2C_DTYPE_INT32))
      .Add(t::Value::Tensor({3, 2}, T2C_DTYPE_INT32));
  mean.Add(t::Value::String("mean")).Add(t::Value::Bool(true));
  EXPECT_FALSE(mean.Infer(Decl("aten::scatter_reduce.two")));
  EXPECT_NE(mean.error().find("integer"), std::string::npos) << mean.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
