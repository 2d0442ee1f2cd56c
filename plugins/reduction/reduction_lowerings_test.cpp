/// Tests of the reduction family: axes, keepdim, reduce-all, dtype refusals.
#include "reduction/reduction_lowerings.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(ReductionTest, DimsKeepdimSweep) {
  // mean.dim / sum.dim_IntList / amax / amin over every dim list of a rank-4 input, negative and
  // positive, with and without keepdim.
  const Shape x = {2, 3, 4, 5};
  const std::vector<std::vector<int64_t>> dim_lists = {{0},    {-1},   {1, 2},       {-2, -1},
                                                       {0, 3}, {3, 1}, {0, 1, 2, 3}, {-4, 2}};
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"aten::mean.dim", "reduce_mean"},
      {"aten::sum.dim_IntList", "reduce_sum"},
      {"aten::amax", "reduce_max"},
      {"aten::amin", "reduce_min"}};
  for (const auto& [op, mil] : ops) {
    for (const auto& dims : dim_lists) {
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(op + " dims " + std::to_string(dims.size()) + " keepdim " +
                     std::to_string(keepdim));
        t::FakeNode n(op);
        n.Add(t::Value::Tensor(x)).Add(t::Value::Ints(dims)).Add(t::Value::Bool(keepdim));
        if (op != "aten::amax" && op != "aten::amin") n.Add(t::Value::None());
        n.Precision(T2C_DTYPE_FP16);
        ASSERT_TRUE(n.Lower(Decl(op))) << n.error();
        std::vector<int64_t> axes;
        for (int64_t d : dims) axes.push_back(d < 0 ? d + 4 : d);
        std::sort(axes.begin(), axes.end());
        Shape expected;
        for (int64_t i = 0; i < 4; ++i) {
          const bool reduced = std::count(axes.begin(), axes.end(), i) != 0;
          if (!reduced) expected.push_back(x[i]);
          if (reduced && keepdim) expected.push_back(1);
        }
        EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, expected));
        const t::FakeOp* r = n.OutputOp();
        ASSERT_EQ(r->type, mil);
        EXPECT_EQ(n.ArgInts(*r, "axes"), axes);
        EXPECT_EQ(n.ArgScalar(*r, "keep_dims"), keepdim ? 1 : 0);
      }
    }
  }
}

TEST(ReductionTest, FullMeanAndSum) {
  t::FakeNode mean("aten::mean");
  mean.Add(t::Value::Tensor({2, 3, 4})).Add(t::Value::None());
  ASSERT_TRUE(mean.Lower(Decl("aten::mean"))) << mean.error();
  EXPECT_EQ(mean.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {}));
  EXPECT_EQ(mean.OutputOp()->type, "reduce_mean");
  EXPECT_EQ(mean.ArgInts(*mean.OutputOp(), "axes"), (Shape{0, 1, 2}));
  EXPECT_EQ(mean.ArgScalar(*mean.OutputOp(), "keep_dims"), 0);

  t::FakeNode sum("aten::sum");
  sum.Add(t::Value::Tensor({4, 5}, T2C_DTYPE_INT32)).Add(t::Value::None());
  ASSERT_TRUE(sum.Lower(Decl("aten::sum"))) << sum.error();
  EXPECT_EQ(sum.planned(), sdk::TensorType(T2C_DTYPE_INT32, {}));
  EXPECT_EQ(sum.OutputOp()->type, "reduce_sum");

  t::FakeNode sum_float("aten::sum");
  sum_float.Add(t::Value::Tensor({4, 5}, T2C_DTYPE_INT32)).Add(t::Value::Int(6));
  ASSERT_TRUE(sum_float.Infer(Decl("aten::sum"))) << sum_float.error();
  EXPECT_EQ(sum_float.inferred().dtype, T2C_DTYPE_FP32);
}

TEST(ReductionTest, MaxMinDimValues) {
  for (const std::string op : {"aten::max.dim", "aten::min.dim"}) {
    for (int64_t dim : {0, 1, -1}) {
      for (bool keepdim : {false, true}) {
        t::FakeNode n(op, 2);
        n.Add(t::Value::Tensor({3, 4})).Add(t::Value::Int(dim)).Add(t::Value::Bool(keepdim));
        n.UnusedOutput(1);
        ASSERT_TRUE(n.Lower(Decl(op))) << n.error();
        Shape expected = {3, 4};
        const int64_t a = dim < 0 ? dim + 2 : dim;
        if (keepdim) {
          expected[a] = 1;
        } else {
          expected.erase(expected.begin() + a);
        }
        EXPECT_EQ(n.planned(0).shape, expected);
        EXPECT_EQ(n.OutputOp()->type, op == "aten::max.dim" ? "reduce_max" : "reduce_min");
        EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{a}));
        EXPECT_EQ(n.output(1), n.output(0));
      }
    }
    t::FakeNode indices(op, 2);
    indices.Add(t::Value::Tensor({3, 4})).Add(t::Value::Int(1)).Add(t::Value::Bool(false));
    EXPECT_FALSE(indices.Infer(Decl(op)));
    EXPECT_NE(indices.error().find("indices output is read"), std::string::npos) << indices.error();
  }
}

TEST(ReductionTest, VarStd) {
  struct Case {
    std::string op;
    std::vector<t::Value> args;
    Shape out;
    double divisor;
  };
  const std::vector<Case> cases = {
      {"aten::var", {t::Value::Bool(true)}, {}, 59},
      {"aten::std", {t::Value::Bool(false)}, {}, 60},
      {"aten::var.dim",
       {t::Value::Ints({1}), t::Value::Bool(true), t::Value::Bool(false)},
       {3, 5},
       3},
      {"aten::std.dim",
       {t::Value::Ints({-1, 0}), t::Value::Bool(false), t::Value::Bool(true)},
       {1, 4, 1},
       15},
      {"aten::var.correction",
       {t::Value::Ints({2}), t::Value::Int(2), t::Value::Bool(false)},
       {3, 4},
       3},
      {"aten::std.correction",
       {t::Value::None(), t::Value::None(), t::Value::Bool(true)},
       {1, 1, 1},
       59},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    t::FakeNode n(c.op);
    n.Add(t::Value::Tensor({3, 4, 5}));
    for (const t::Value& v : c.args) n.Add(v);
    n.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(n.Lower(Decl(c.op))) << n.error();
    EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, c.out));
    const bool is_std = c.op.rfind("aten::std", 0) == 0;
    std::vector<std::string> ops = {"reduce_mean", "sub", "mul", "reduce_sum", "real_div"};
    if (is_std) ops.push_back("sqrt");
    EXPECT_EQ(n.op_types(), ops);
    EXPECT_EQ(n.ArgScalar(*n.FindOp("reduce_mean"), "keep_dims"), 1);
    EXPECT_EQ(n.ArgScalar(*n.FindOp("real_div"), "y"), c.divisor);
  }
  t::FakeNode one("aten::var.dim");
  one.Add(t::Value::Tensor({3, 1})).Add(t::Value::Ints({1})).Add(t::Value::Bool(true));
  one.Add(t::Value::Bool(false));
  EXPECT_FALSE(one.Infer(Decl("aten::var.dim")));
  EXPECT_NE(one.error().find("correction 1"), std::string::npos) << one.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
