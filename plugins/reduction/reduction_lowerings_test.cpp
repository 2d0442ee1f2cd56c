/// Tests of the reduction family: axes, keepdim, reduce-all, dtype refusals.
#include "reduction/reduction_lowerings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

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

TEST(ReductionTest, MaxMinDimValuesAndIndices) {
  for (const std::string op : {"aten::max.dim", "aten::min.dim"}) {
    for (int64_t dim : {0, 1, -1}) {
      for (bool keepdim : {false, true}) {
        t::FakeNode n(op, 2);
        n.Add(t::Value::Tensor({3, 4})).Add(t::Value::Int(dim)).Add(t::Value::Bool(keepdim));
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
        EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_INT32, expected));
        const t::FakeOp* arg = n.FindOp(op == "aten::max.dim" ? "reduce_argmax" : "reduce_argmin");
        ASSERT_NE(arg, nullptr);
        EXPECT_EQ(n.ArgScalar(*arg, "axis"), a);
        EXPECT_EQ(n.ArgScalar(*arg, "keep_dims"), keepdim ? 1 : 0);
      }
    }
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

/// Lowers `op` on `self` and `args`; the node's error when it fails.
t::FakeNode LowerNode(const std::string& op, const t::Value& self,
                      const std::vector<t::Value>& args, uint32_t num_outputs = 1) {
  t::FakeNode n(op, num_outputs);
  n.Add(self);
  for (const t::Value& v : args) n.Add(v);
  EXPECT_TRUE(n.Lower(Decl(op))) << op << ": " << n.error();
  return n;
}

/// The error of inferring `op` on `self` and `args` (which must fail).
std::string InferError(const std::string& op, const t::Value& self,
                       const std::vector<t::Value>& args, uint32_t num_outputs = 1) {
  t::FakeNode n(op, num_outputs);
  n.Add(self);
  for (const t::Value& v : args) n.Add(v);
  EXPECT_FALSE(n.Infer(Decl(op))) << op;
  return n.error();
}

TEST(ReductionTest, ArgmaxOverDimAndFlattened) {
  t::FakeNode dim = LowerNode("aten::argmax", t::Value::Tensor({3, 4}),
                              {t::Value::Int(-1), t::Value::Bool(false)});
  EXPECT_EQ(dim.op_types(), Ops{"reduce_argmax"});
  EXPECT_EQ(dim.ArgScalar(*dim.OutputOp(), "axis"), 1);
  EXPECT_EQ(dim.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3}));

  t::FakeNode flat = LowerNode("aten::argmin", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                               {t::Value::None(), t::Value::Bool(true)});
  EXPECT_EQ(flat.op_types(), (Ops{"reshape", "reduce_argmin", "reshape"}));
  EXPECT_EQ(flat.planned(), sdk::TensorType(T2C_DTYPE_INT32, {1, 1}));
  EXPECT_EQ(flat.ArgInts(*flat.FindOp("reshape"), "shape"), (Shape{12}));

  t::FakeNode flat_scalar = LowerNode("aten::argmax", t::Value::Tensor({2, 3}),
                                      {t::Value::None(), t::Value::Bool(false)});
  EXPECT_EQ(flat_scalar.planned(), sdk::TensorType(T2C_DTYPE_INT32, {}));
  EXPECT_EQ(flat_scalar.op_types(), (Ops{"reshape", "reduce_argmax"}));
}

TEST(ReductionTest, FullMaxMinAndBinaryForm) {
  t::FakeNode full = LowerNode("aten::max", t::Value::Tensor({2, 3, 4}), {});
  EXPECT_EQ(full.op_types(), Ops{"reduce_max"});
  EXPECT_EQ(full.ArgInts(*full.OutputOp(), "axes"), (Shape{0, 1, 2}));
  EXPECT_EQ(full.planned(), sdk::TensorType(T2C_DTYPE_FP32, {}));

  t::FakeNode other = LowerNode("aten::min.other", t::Value::Tensor({3, 1}, T2C_DTYPE_INT32),
                                {t::Value::Tensor({4}, T2C_DTYPE_INT32)});
  EXPECT_EQ(other.op_types(), Ops{"minimum"});
  EXPECT_EQ(other.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3, 4}));

  EXPECT_NE(
      InferError("aten::max.other", t::Value::Tensor({3}), {t::Value::Tensor({3}, T2C_DTYPE_INT32)})
          .find("mixed int and float"),
      std::string::npos);
}

TEST(ReductionTest, TopkGivesValuesAndIndices) {
  t::FakeNode n = LowerNode(
      "aten::topk", t::Value::Tensor({2, 5, 3}),
      {t::Value::Int(2), t::Value::Int(1), t::Value::Bool(false), t::Value::Bool(true)}, 2);
  EXPECT_EQ(n.op_types(), Ops{"topk"});
  const t::FakeOp* topk = n.FindOp("topk");
  EXPECT_EQ(n.ArgScalar(*topk, "k"), 2);
  EXPECT_EQ(n.ArgScalar(*topk, "axis"), 1);
  EXPECT_EQ(n.ArgScalar(*topk, "ascending"), 1);
  EXPECT_EQ(n.planned(0), sdk::TensorType(T2C_DTYPE_FP32, {2, 2, 3}));
  EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {2, 2, 3}));

  // sorted=False: PyTorch's order is the sorted one for k = 1 and k * 64 <= size (a partial
  // sort); otherwise std::nth_element's, refused.
  for (auto [size, k] : std::vector<std::pair<int64_t, int64_t>>{{6, 1}, {128, 2}, {640, 10}}) {
    t::FakeNode unsorted = LowerNode(
        "aten::topk", t::Value::Tensor({3, size}),
        {t::Value::Int(k), t::Value::Int(-1), t::Value::Bool(true), t::Value::Bool(false)}, 2);
    EXPECT_EQ(unsorted.op_types(), Ops{"topk"}) << size << " " << k;
  }
  for (auto [size, k] : std::vector<std::pair<int64_t, int64_t>>{{6, 3}, {127, 2}, {641, 11}}) {
    const std::vector<t::Value> args = {t::Value::Int(k), t::Value::Int(-1), t::Value::Bool(true),
                                        t::Value::Bool(false)};
    EXPECT_NE(InferError("aten::topk", t::Value::Tensor({size}), args, 2)
                  .find("topk: sorted=False with k " + std::to_string(k) + " of " +
                        std::to_string(size) + " returns PyTorch's unsorted order"),
              std::string::npos)
        << size << " " << k;
  }

  const std::vector<t::Value> too_many = {t::Value::Int(7), t::Value::Int(-1), t::Value::Bool(true),
                                          t::Value::Bool(true)};
  EXPECT_NE(InferError("aten::topk", t::Value::Tensor({6}), too_many, 2).find("out of range"),
            std::string::npos);
  const std::vector<t::Value> zero = {t::Value::Int(0), t::Value::Int(-1), t::Value::Bool(true),
                                      t::Value::Bool(true)};
  EXPECT_NE(InferError("aten::topk", t::Value::Tensor({6}), zero, 2).find("k 0"),
            std::string::npos);
}

TEST(ReductionTest, SortIsTopkOfTheWholeDimAndArgsortIsArgsort) {
  t::FakeNode sort = LowerNode("aten::sort", t::Value::Tensor({4, 7}),
                               {t::Value::Int(-1), t::Value::Bool(true)}, 2);
  const t::FakeOp* topk = sort.FindOp("topk");
  ASSERT_NE(topk, nullptr);
  EXPECT_EQ(sort.ArgScalar(*topk, "k"), 7);
  EXPECT_EQ(sort.ArgScalar(*topk, "ascending"), 0);
  EXPECT_EQ(sort.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {4, 7}));

  t::FakeNode stable =
      LowerNode("aten::sort.stable", t::Value::Tensor({4, 7}),
                {t::Value::Bool(true), t::Value::Int(0), t::Value::Bool(false)}, 2);
  EXPECT_EQ(stable.ArgScalar(*stable.FindOp("topk"), "k"), 4);
  EXPECT_EQ(stable.ArgScalar(*stable.FindOp("topk"), "ascending"), 1);

  t::FakeNode argsort = LowerNode("aten::argsort", t::Value::Tensor({4, 7}, T2C_DTYPE_INT32),
                                  {t::Value::Int(0), t::Value::Bool(true)});
  EXPECT_EQ(argsort.op_types(), Ops{"argsort"});
  EXPECT_EQ(argsort.ArgScalar(*argsort.OutputOp(), "ascending"), 0);
  EXPECT_EQ(argsort.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4, 7}));
}

TEST(ReductionTest, AllAnyCountNonzeroReduceAnIndicator) {
  t::FakeNode any = LowerNode("aten::any.dim", t::Value::Tensor({3, 4}, T2C_DTYPE_BOOL),
                              {t::Value::Int(1), t::Value::Bool(true)});
  EXPECT_EQ(any.op_types(), (Ops{"select", "reduce_max", "greater"}));
  EXPECT_EQ(any.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {3, 1}));

  t::FakeNode all = LowerNode("aten::all", t::Value::Tensor({3, 4}), {});
  EXPECT_EQ(all.op_types(), (Ops{"not_equal", "select", "reduce_min", "greater"}));
  EXPECT_EQ(all.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {}));

  t::FakeNode count =
      LowerNode("aten::count_nonzero.dim_IntList", t::Value::Tensor({2, 3, 4}, T2C_DTYPE_INT32),
                {t::Value::Ints({0, -1})});
  EXPECT_EQ(count.op_types(), (Ops{"not_equal", "select", "reduce_sum"}));
  EXPECT_EQ(count.ArgInts(*count.OutputOp(), "axes"), (Shape{0, 2}));
  EXPECT_EQ(count.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3}));
}

TEST(ReductionTest, CumsumKeepsIntsAndTakesFloatDtypes) {
  t::FakeNode ints = LowerNode("aten::cumsum", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                               {t::Value::Int(-1), t::Value::None()});
  EXPECT_EQ(ints.op_types(), Ops{"cumsum"});
  EXPECT_EQ(ints.ArgScalar(*ints.OutputOp(), "axis"), 1);
  EXPECT_EQ(ints.ArgScalar(*ints.OutputOp(), "exclusive"), 0);
  EXPECT_EQ(ints.ArgScalar(*ints.OutputOp(), "reverse"), 0);
  EXPECT_EQ(ints.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3, 4}));

  t::FakeNode to_float("aten::cumsum");
  to_float.Add(t::Value::Tensor({3, 4}, T2C_DTYPE_INT32)).Add(t::Value::Int(0));
  to_float.Add(t::Value::Int(6));
  ASSERT_TRUE(to_float.Infer(Decl("aten::cumsum"))) << to_float.error();
  EXPECT_EQ(to_float.inferred().dtype, T2C_DTYPE_FP32);

  EXPECT_NE(InferError("aten::cumsum", t::Value::Tensor({3}), {t::Value::Int(0), t::Value::Int(4)})
                .find("dtype (ScalarType 4)"),
            std::string::npos);
}

TEST(ReductionTest, ProdAndLogsumexp) {
  t::FakeNode prod = LowerNode("aten::prod.dim_int", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                               {t::Value::Int(0), t::Value::Bool(true), t::Value::None()});
  EXPECT_EQ(prod.op_types(), Ops{"reduce_prod"});
  EXPECT_EQ(prod.planned(), sdk::TensorType(T2C_DTYPE_INT32, {1, 4}));

  t::FakeNode lse("aten::logsumexp");
  lse.Add(t::Value::Tensor({3, 4, 5})).Add(t::Value::Ints({0, 2})).Add(t::Value::Bool(false));
  lse.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(lse.Lower(Decl("aten::logsumexp"))) << lse.error();
  EXPECT_EQ(lse.op_types(), Ops{"reduce_log_sum_exp"});
  EXPECT_EQ(lse.planned(), sdk::TensorType(T2C_DTYPE_FP32, {4}));
}

TEST(ReductionTest, VectorNormsByOrder) {
  struct Case {
    double p;
    Ops ops;
  };
  const std::vector<Case> cases = {{2, {"reduce_l2_norm"}},
                                   {1, {"reduce_l1_norm"}},
                                   {INFINITY, {"abs", "reduce_max"}},
                                   {-INFINITY, {"abs", "reduce_min"}},
                                   {0, {"not_equal", "select", "reduce_sum"}},
                                   {3, {"abs", "pow", "reduce_sum", "pow"}},
                                   {-0.5, {"abs", "pow", "reduce_sum", "pow"}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.p);
    t::FakeNode n = LowerNode(
        "aten::linalg_vector_norm", t::Value::Tensor({3, 4, 5}),
        {t::Value::Float(c.p), t::Value::Ints({-1, 0}), t::Value::Bool(true), t::Value::None()});
    EXPECT_EQ(n.op_types(), c.ops);
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, {1, 4, 1}));
    EXPECT_EQ(
        n.ArgInts(*n.FindOp(c.ops.back() == "pow" ? "reduce_sum" : c.ops.back().c_str()), "axes"),
        (Shape{0, 2}));
  }
  t::FakeNode dim_norm = LowerNode("aten::norm.ScalarOpt_dim", t::Value::Tensor({3, 4}),
                                   {t::Value::Int(1), t::Value::Ints({1}), t::Value::Bool(false)});
  EXPECT_EQ(dim_norm.op_types(), Ops{"reduce_l1_norm"});
  EXPECT_EQ(dim_norm.planned(), sdk::TensorType(T2C_DTYPE_FP32, {3}));
  t::FakeNode fro = LowerNode("aten::frobenius_norm.dim", t::Value::Tensor({3, 4}),
                              {t::Value::Ints({0, 1}), t::Value::Bool(false)});
  EXPECT_EQ(fro.op_types(), Ops{"reduce_l2_norm"});
  EXPECT_EQ(fro.planned(), sdk::TensorType(T2C_DTYPE_FP32, {}));
}

TEST(ReductionTest, LinalgNormMatrixOrders) {
  t::FakeNode inf = LowerNode(
      "aten::linalg_norm", t::Value::Tensor({3, 4}),
      {t::Value::Float(INFINITY), t::Value::None(), t::Value::Bool(false), t::Value::None()});
  EXPECT_EQ(inf.op_types(), (Ops{"abs", "reduce_sum", "reduce_max", "squeeze"}));
  EXPECT_EQ(inf.ArgInts(*inf.FindOp("reduce_sum"), "axes"), (Shape{1}));
  EXPECT_EQ(inf.planned(), sdk::TensorType(T2C_DTYPE_FP32, {}));

  t::FakeNode one = LowerNode(
      "aten::linalg_norm", t::Value::Tensor({2, 3, 4}),
      {t::Value::Int(-1), t::Value::Ints({2, 1}), t::Value::Bool(true), t::Value::None()});
  EXPECT_EQ(one.ArgInts(*one.FindOp("reduce_sum"), "axes"), (Shape{2}));
  EXPECT_EQ(one.ArgInts(*one.FindOp("reduce_min"), "axes"), (Shape{1}));
  EXPECT_EQ(one.planned(), sdk::TensorType(T2C_DTYPE_FP32, {2, 1, 1}));

  t::FakeNode matrix = LowerNode(
      "aten::linalg_matrix_norm.str_ord", t::Value::Tensor({2, 3, 4}),
      {t::Value::String("fro"), t::Value::Ints({-2, -1}), t::Value::Bool(false), t::Value::None()});
  EXPECT_EQ(matrix.op_types(), Ops{"reduce_l2_norm"});
  EXPECT_EQ(matrix.planned(), sdk::TensorType(T2C_DTYPE_FP32, {2}));
  EXPECT_NE(
      InferError("aten::linalg_matrix_norm", t::Value::Tensor({2, 3, 4}),
                 {t::Value::Int(1), t::Value::Ints({0}), t::Value::Bool(false), t::Value::None()})
          .find("two dimensions"),
      std::string::npos);

  const std::vector<t::Value> nuc = {t::Value::String("nuc"), t::Value::None(),
                                     t::Value::Bool(false), t::Value::None()};
  EXPECT_NE(InferError("aten::linalg_norm.ord_str", t::Value::Tensor({3, 4}), nuc).find("'nuc'"),
            std::string::npos);
  const std::vector<t::Value> two = {t::Value::Int(2), t::Value::None(), t::Value::Bool(false),
                                     t::Value::None()};
  EXPECT_NE(InferError("aten::linalg_norm", t::Value::Tensor({3, 4}), two).find("ord 2"),
            std::string::npos);
  EXPECT_NE(
      InferError("aten::norm.Scalar", t::Value::Tensor({3}, T2C_DTYPE_INT32), {t::Value::Int(2)})
          .find("floating-point"),
      std::string::npos);
}

TEST(ReductionTest, CumprodMasksAProductTable) {
  t::FakeNode n = LowerNode("aten::cumprod", t::Value::Tensor({2, 5, 3}),
                            {t::Value::Int(-2), t::Value::None()});
  EXPECT_EQ(n.op_types(),
            (Ops{"expand_dims", "reshape", "reshape", "greater_equal", "select", "reduce_prod"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("expand_dims"), "axes"), (Shape{1}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 0), "shape"), (Shape{5, 1, 1}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape", 1), "shape"), (Shape{5, 1}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{2}));
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, {2, 5, 3}));
  t::FakeNode ints = LowerNode("aten::cumprod", t::Value::Tensor({4}, T2C_DTYPE_INT32),
                               {t::Value::Int(0), t::Value::None()});
  EXPECT_EQ(ints.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4}));
  t::FakeNode huge("aten::cumprod");
  huge.Add(t::Value::Tensor({8192, 4096})).Add(t::Value::Int(0)).Add(t::Value::None());
  EXPECT_FALSE(huge.Lower(Decl("aten::cumprod")));
  EXPECT_NE(huge.error().find("limit"), std::string::npos) << huge.error();
}

TEST(ReductionTest, SumAndProdTakeIntDtypesOnIntInputs) {
  t::FakeNode sum("aten::sum.dim_IntList");
  sum.Add(t::Value::Tensor({3, 4}, T2C_DTYPE_INT32)).Add(t::Value::Ints({1}));
  sum.Add(t::Value::Bool(false)).Add(t::Value::Int(4));
  ASSERT_TRUE(sum.Lower(Decl("aten::sum.dim_IntList"))) << sum.error();
  EXPECT_EQ(sum.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3}));

  EXPECT_NE(InferError("aten::prod", t::Value::Tensor({3, 4}), {t::Value::Int(4)})
                .find("dtype (ScalarType 4)"),
            std::string::npos);
  EXPECT_NE(InferError("aten::mean.dim", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                       {t::Value::Ints({0}), t::Value::Bool(false), t::Value::Int(3)})
                .find("dtype (ScalarType 3)"),
            std::string::npos);
}

TEST(ReductionTest, MedianAndKthvalueTakeASlotOfTopk) {
  t::FakeNode full = LowerNode("aten::median", t::Value::Tensor({2, 5}), {});
  EXPECT_EQ(full.op_types(), (Ops{"reshape", "topk", "gather", "gather", "squeeze", "squeeze"}));
  EXPECT_EQ(full.ArgScalar(*full.FindOp("topk"), "k"), 5);  // the 5th of 10: the lower median
  EXPECT_EQ(full.ArgInts(*full.FindOp("gather"), "indices"), (Shape{4}));
  EXPECT_EQ(full.planned(), sdk::TensorType(T2C_DTYPE_FP32, {}));

  t::FakeNode dim = LowerNode("aten::median.dim", t::Value::Tensor({2, 5, 3}),
                              {t::Value::Int(1), t::Value::Bool(true)}, 2);
  EXPECT_EQ(dim.ArgScalar(*dim.FindOp("topk"), "k"), 3);
  EXPECT_EQ(dim.ArgScalar(*dim.FindOp("topk"), "ascending"), 1);
  EXPECT_EQ(dim.planned(0), sdk::TensorType(T2C_DTYPE_FP32, {2, 1, 3}));
  EXPECT_EQ(dim.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {2, 1, 3}));

  t::FakeNode kth = LowerNode("aten::kthvalue", t::Value::Tensor({4, 6}),
                              {t::Value::Int(6), t::Value::Int(-1), t::Value::Bool(false)}, 2);
  EXPECT_EQ(kth.ArgScalar(*kth.FindOp("topk"), "k"), 6);
  EXPECT_EQ(kth.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {4}));
  EXPECT_NE(InferError("aten::kthvalue", t::Value::Tensor({4, 6}),
                       {t::Value::Int(7), t::Value::Int(-1), t::Value::Bool(false)}, 2)
                .find("out of range"),
            std::string::npos);
}

TEST(ReductionTest, LogcumsumexpFillsWithTheLowestFloat) {
  t::FakeNode n("aten::logcumsumexp");
  n.Add(t::Value::Tensor({4, 3})).Add(t::Value::Int(0));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::logcumsumexp"))) << n.error();
  EXPECT_EQ(n.compute_dtype(), T2C_DTYPE_FP32);
  EXPECT_EQ(n.OutputOp()->type, "reduce_log_sum_exp");
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "axes"), (Shape{1}));
  EXPECT_EQ(n.ArgScalar(*n.FindOp("select"), "b"), std::numeric_limits<float>::lowest());
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP32, {4, 3}));
}

TEST(ReductionTest, UnderscoreLogcumsumexpIsTheSameOp) {
  // aten::_logcumsumexp(self, dim), the kernel logcumsumexp calls; a negative dim.
  t::FakeNode n("aten::_logcumsumexp");
  n.Add(t::Value::Tensor({2, 3, 5})).Add(t::Value::Int(-2));
  ASSERT_TRUE(n.Lower(Decl("aten::_logcumsumexp"))) << n.error();
  EXPECT_EQ(n.OutputOp()->type, "reduce_log_sum_exp");
  EXPECT_EQ(n.planned().shape, (Shape{2, 3, 5}));
}

TEST(ReductionTest, VarMeanAndStdMeanAlsoGiveTheMean) {
  t::FakeNode n = LowerNode("aten::std_mean.dim", t::Value::Tensor({3, 4, 5}),
                            {t::Value::Ints({1}), t::Value::Bool(true), t::Value::Bool(false)}, 2);
  EXPECT_EQ(n.OutputOp(0)->type, "sqrt");
  EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_FP32, {3, 5}));
  EXPECT_EQ(n.OutputOp(1)->type, "reshape");
  t::FakeNode keep = LowerNode("aten::var_mean.correction", t::Value::Tensor({3, 4}),
                               {t::Value::None(), t::Value::Int(0), t::Value::Bool(true)}, 2);
  EXPECT_EQ(keep.OutputOp(0)->type, "real_div");
  EXPECT_EQ(keep.OutputOp(1)->type, "reduce_mean");
  EXPECT_EQ(keep.planned(1), sdk::TensorType(T2C_DTYPE_FP32, {1, 1}));
}

TEST(ReductionTest, CummaxGivesTheLastIndexOfEqualExtremes) {
  t::FakeNode n =
      LowerNode("aten::cummax", t::Value::Tensor({2, 5}, T2C_DTYPE_INT32), {t::Value::Int(-1)}, 2);
  EXPECT_EQ(n.ArgScalar(*n.FindOp("select"), "b"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(n.OutputOp(0)->type, "reduce_max");
  EXPECT_EQ(n.ArgInts(*n.FindOp("reverse"), "axes"), (Shape{2}));
  EXPECT_EQ(n.ArgScalar(*n.FindOp("reduce_argmax"), "axis"), 2);
  EXPECT_EQ(n.OutputOp(1)->type, "sub");
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(1), "x"), 4);
  EXPECT_EQ(n.planned(0), sdk::TensorType(T2C_DTYPE_INT32, {2, 5}));
  EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {2, 5}));
  t::FakeNode min = LowerNode("aten::cummin", t::Value::Tensor({4}), {t::Value::Int(0)}, 2);
  EXPECT_EQ(min.ArgScalar(*min.FindOp("select"), "b"), std::numeric_limits<float>::max());
  EXPECT_NE(min.FindOp("reduce_argmin"), nullptr);
  t::FakeNode min_int =
      LowerNode("aten::cummin", t::Value::Tensor({4}, T2C_DTYPE_INT32), {t::Value::Int(0)}, 2);
  EXPECT_EQ(min_int.ArgScalar(*min_int.FindOp("select"), "b"), std::numeric_limits<int32_t>::max());
}

TEST(ReductionTest, AminmaxGivesBothExtremes) {
  t::FakeNode n = LowerNode("aten::aminmax", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                            {t::Value::Int(0), t::Value::Bool(true)}, 2);
  EXPECT_EQ(n.OutputOp(0)->type, "reduce_min");
  EXPECT_EQ(n.OutputOp(1)->type, "reduce_max");
  EXPECT_EQ(n.planned(1), sdk::TensorType(T2C_DTYPE_INT32, {1, 4}));
  t::FakeNode full = LowerNode("aten::aminmax", t::Value::Tensor({3, 4}),
                               {t::Value::None(), t::Value::Bool(false)}, 2);
  EXPECT_EQ(full.ArgInts(*full.OutputOp(0), "axes"), (Shape{0, 1}));
  EXPECT_EQ(full.planned(0), sdk::TensorType(T2C_DTYPE_FP32, {}));
}

TEST(ReductionTest, NansumAndNanmeanSkipNaN) {
  t::FakeNode sum = LowerNode("aten::nansum", t::Value::Tensor({3, 4}),
                              {t::Value::Ints({1}), t::Value::Bool(false), t::Value::None()});
  EXPECT_EQ(sum.op_types(), (Ops{"equal", "select", "reduce_sum"}));
  EXPECT_EQ(sum.planned(), sdk::TensorType(T2C_DTYPE_FP32, {3}));
  t::FakeNode mean = LowerNode("aten::nanmean", t::Value::Tensor({3, 4}),
                               {t::Value::None(), t::Value::Bool(true), t::Value::None()});
  EXPECT_EQ(mean.op_types(),
            (Ops{"equal", "select", "reduce_sum", "select", "reduce_sum", "real_div"}));
  EXPECT_EQ(mean.planned(), sdk::TensorType(T2C_DTYPE_FP32, {1, 1}));
  t::FakeNode ints = LowerNode("aten::nansum", t::Value::Tensor({3, 4}, T2C_DTYPE_INT32),
                               {t::Value::None(), t::Value::Bool(false), t::Value::None()});
  EXPECT_EQ(ints.op_types(), Ops{"reduce_sum"});
}

}  // namespace
}  // namespace ts2coreml::plugins
