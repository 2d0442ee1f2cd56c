/// Fake-host tests of the elementwise family's unary math, rounding, predicates, logic, clamping,
/// selection and composed binary math: the MIL each emits, its types, and its refusals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "elementwise/elementwise_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ElementwisePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

/// Lowers `op` on the given inputs at `precision`; fails the test when it does not lower.
void Lower(t::FakeNode& n, const std::string& op, t2c_dtype precision = T2C_DTYPE_FP32) {
  n.Precision(precision);
  ASSERT_TRUE(n.Lower(Decl(op))) << op << ": " << n.error();
}

/// Infers `op` and expects a refusal whose message contains `text`.
void ExpectRefused(t::FakeNode& n, const std::string& op, const std::string& text) {
  EXPECT_FALSE(n.Lower(Decl(op))) << op;
  EXPECT_NE(n.error().find(text), std::string::npos) << op << ": " << n.error();
}

TEST(UnaryMathTest, DirectOpsAreOneMilOp) {
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"aten::exp", "exp"},   {"aten::exp2", "exp2"},   {"aten::sqrt", "sqrt"},
      {"aten::sin", "sin"},   {"aten::cos", "cos"},     {"aten::tan", "tan"},
      {"aten::asin", "asin"}, {"aten::arccos", "acos"}, {"aten::atan", "atan"},
      {"aten::sinh", "sinh"}, {"aten::cosh", "cosh"},   {"aten::atanh", "atanh"},
      {"aten::erf", "erf"},   {"aten::exp_", "exp"}};
  for (const auto& [op, mil] : ops) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({2, 5}));
    Lower(n, op == "aten::exp_" ? "aten::exp" : op, T2C_DTYPE_FP16);
    EXPECT_EQ(n.op_types(), Ops{mil}) << op;
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {2, 5})) << op;
  }
}

TEST(UnaryMathTest, IntegerInputGivesFloat) {
  t::FakeNode n("aten::sin");
  n.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32));
  Lower(n, "aten::sin");
  EXPECT_EQ(n.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {4}));
  EXPECT_EQ(Decl("aten::sin").inputs[0].dtypes, T2C_MASK_FLOAT);
  EXPECT_EQ(n.ArgType(*n.OutputOp(), "x").dtype, T2C_DTYPE_FP32);
}

TEST(UnaryMathTest, LogAddsNoEpsilonAndScalesForOtherBases) {
  t::FakeNode n("aten::log");
  n.Add(t::Value::Tensor({3}));
  Lower(n, "aten::log");
  EXPECT_EQ(n.op_types(), Ops{"log"});
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "epsilon"), 0.0);
  t::FakeNode l2("aten::log2");
  l2.Add(t::Value::Tensor({3}));
  Lower(l2, "aten::log2");
  EXPECT_EQ(l2.op_types(), (Ops{"log", "mul"}));
  EXPECT_NEAR(l2.ArgScalar(*l2.OutputOp(), "y"), 1.4426950408889634, 1e-7);
  t::FakeNode l10("aten::log10");
  l10.Add(t::Value::Tensor({3}));
  Lower(l10, "aten::log10");
  EXPECT_NEAR(l10.ArgScalar(*l10.OutputOp(), "y"), 0.4342944819032518, 1e-7);
}

TEST(UnaryMathTest, ReciprocalAndRsqrtDivideOne) {
  t::FakeNode r("aten::reciprocal");
  r.Add(t::Value::Tensor({3}));
  Lower(r, "aten::reciprocal");
  EXPECT_EQ(r.op_types(), Ops{"real_div"});
  EXPECT_EQ(r.ArgScalar(*r.OutputOp(), "x"), 1.0);
  t::FakeNode s("aten::rsqrt");
  s.Add(t::Value::Tensor({3}));
  Lower(s, "aten::rsqrt");
  EXPECT_EQ(s.op_types(), (Ops{"sqrt", "real_div"}));
}

TEST(UnaryMathTest, Log1pAndExpm1CorrectNearZero) {
  t::FakeNode l("aten::log1p");
  l.Add(t::Value::Tensor({3}));
  Lower(l, "aten::log1p", T2C_DTYPE_FP16);
  EXPECT_EQ(l.op_types(), (Ops{"add", "log", "sub", "real_div", "mul", "equal", "select", "abs",
                               "less", "select"}));
  const t::FakeOp* out = l.OutputOp();
  EXPECT_EQ(l.Producer(l.ArgVar(*out, "b"))->type, "log");  // |x| >= 0.5: log(1 + x)
  EXPECT_EQ(l.ArgScalar(*l.FindOp("less"), "y"), 0.5);
  t::FakeNode e("aten::expm1");
  e.Add(t::Value::Tensor({3}));
  Lower(e, "aten::expm1");
  EXPECT_EQ(e.op_types(), (Ops{"exp", "sub", "log", "real_div", "mul", "equal", "select", "abs",
                               "less", "select"}));
  EXPECT_EQ(e.Producer(e.ArgVar(*e.OutputOp(), "b"))->type, "sub");  // exp(x) - 1
}

TEST(UnaryMathTest, AsinhAcoshSwitchToLogBeyondAThresholdPerDtype) {
  for (t2c_dtype d : {T2C_DTYPE_FP32, T2C_DTYPE_FP16}) {
    for (const std::string op : {"aten::asinh", "aten::acosh"}) {
      t::FakeNode n(op);
      n.Add(t::Value::Tensor({3}));
      Lower(n, op, d);
      const t::FakeOp* big = n.FindOp("greater");
      ASSERT_NE(big, nullptr) << op;
      EXPECT_EQ(n.ArgScalar(*big, "y"), d == T2C_DTYPE_FP16 ? 64.0 : 4096.0) << op;
      EXPECT_EQ(n.planned().dtype, d);
    }
  }
}

TEST(UnaryMathTest, DegreesAndRadians) {
  t::FakeNode d("aten::deg2rad");
  d.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  Lower(d, "aten::deg2rad", T2C_DTYPE_FP16);
  EXPECT_EQ(d.op_types(), Ops{"mul"});
  EXPECT_NEAR(d.ArgScalar(*d.OutputOp(), "y"), 0.017453292519943295, 1e-5);
  EXPECT_EQ(d.planned(), sdk::TensorType(T2C_DTYPE_FP16, {3}));
  t::FakeNode r("aten::rad2deg");
  r.Add(t::Value::Tensor({3}));
  Lower(r, "aten::rad2deg");
  EXPECT_NEAR(r.ArgScalar(*r.OutputOp(), "y"), 57.29577951308232, 1e-4);
}

TEST(UnaryMathTest, ErfcAndFrac) {
  t::FakeNode e("aten::erfc");
  e.Add(t::Value::Tensor({3}));
  Lower(e, "aten::erfc");
  EXPECT_EQ(e.op_types(), (Ops{"erf", "sub"}));
  EXPECT_EQ(e.ArgScalar(*e.OutputOp(), "x"), 1.0);
  t::FakeNode f("aten::frac");
  f.Add(t::Value::Tensor({3}));
  Lower(f, "aten::frac");
  EXPECT_EQ(f.op_types(), (Ops{"greater_equal", "floor", "ceil", "select", "sub"}));
}

TEST(NumericUnaryTest, IntegersStayIntegers) {
  const std::vector<std::pair<std::string, Ops>> ops = {
      {"aten::abs", {"abs"}},          {"aten::neg", {"mul"}},        {"aten::sign", {"sign"}},
      {"aten::square", {"square"}},    {"aten::floor", {"identity"}}, {"aten::ceil", {"identity"}},
      {"aten::trunc", {"identity"}},   {"aten::fix", {"identity"}},   {"aten::sgn", {"sign"}},
      {"aten::positive", {"identity"}}};
  for (const auto& [op, mil] : ops) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_INT32));
    Lower(n, op, T2C_DTYPE_FP16);
    EXPECT_EQ(n.op_types(), mil) << op;
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {2, 3})) << op;
  }
  t::FakeNode neg("aten::neg");
  neg.Add(t::Value::Tensor({2}, T2C_DTYPE_INT32));
  Lower(neg, "aten::neg");
  EXPECT_EQ(neg.ArgType(*neg.OutputOp(), "y"), sdk::TensorType(T2C_DTYPE_INT32, {}));
  EXPECT_EQ(neg.ArgScalar(*neg.OutputOp(), "y"), -1.0);
}

TEST(NumericUnaryTest, FloatRoundingAndBoolRefusal) {
  t::FakeNode tr("aten::trunc");
  tr.Add(t::Value::Tensor({3}));
  Lower(tr, "aten::trunc", T2C_DTYPE_FP16);
  EXPECT_EQ(tr.op_types(), (Ops{"greater_equal", "floor", "ceil", "select"}));
  t::FakeNode fl("aten::floor");
  fl.Add(t::Value::Tensor({3}));
  Lower(fl, "aten::floor");
  EXPECT_EQ(fl.op_types(), Ops{"floor"});
  t::FakeNode b("aten::abs");
  b.Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
  ExpectRefused(b, "aten::abs", "bool tensors are not supported");
}

TEST(RoundTest, DecimalsScaleByPowersOfTen) {
  t::FakeNode r0("aten::round");
  r0.Add(t::Value::Tensor({3}));
  Lower(r0, "aten::round");
  EXPECT_EQ(r0.op_types(), Ops{"round"});
  t::FakeNode r2("aten::round.decimals");
  r2.Add(t::Value::Tensor({3})).Add(t::Value::Int(2));
  Lower(r2, "aten::round.decimals");
  EXPECT_EQ(r2.op_types(), (Ops{"mul", "round", "real_div"}));
  EXPECT_EQ(r2.ArgScalar(*r2.FindOp("mul"), "y"), 100.0);
  EXPECT_EQ(r2.ArgScalar(*r2.OutputOp(), "y"), 100.0);
  t::FakeNode rn("aten::round.decimals");
  rn.Add(t::Value::Tensor({3})).Add(t::Value::Int(-1));
  Lower(rn, "aten::round.decimals", T2C_DTYPE_FP16);
  EXPECT_EQ(rn.op_types(), (Ops{"real_div", "round", "mul"}));
  EXPECT_EQ(rn.ArgScalar(*rn.OutputOp(), "y"), 10.0);
  t::FakeNode ri("aten::round.decimals");
  ri.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Int(1));
  ExpectRefused(ri, "aten::round.decimals", "decimals=1 on an integer tensor");
  t::FakeNode big("aten::round.decimals");
  big.Add(t::Value::Tensor({3})).Add(t::Value::Int(6));
  big.Precision(T2C_DTYPE_FP16);
  ExpectRefused(big, "aten::round.decimals", "beyond FP16's range");
  t::FakeNode huge("aten::round.decimals");
  huge.Add(t::Value::Tensor({3})).Add(t::Value::Int(40));
  ExpectRefused(huge, "aten::round.decimals", "decimals=40 is outside");
}

TEST(PredicateTest, ComparesWithTheLargestFiniteValue) {
  t::FakeNode nan("aten::isnan");
  nan.Add(t::Value::Tensor({4}));
  Lower(nan, "aten::isnan");
  EXPECT_EQ(nan.op_types(), Ops{"not_equal"});
  EXPECT_EQ(nan.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {4}));
  t::FakeNode inf("aten::isinf");
  inf.Add(t::Value::Tensor({4}));
  Lower(inf, "aten::isinf", T2C_DTYPE_FP16);
  EXPECT_EQ(inf.op_types(), (Ops{"abs", "greater"}));
  EXPECT_EQ(inf.ArgScalar(*inf.OutputOp(), "y"), 65504.0);
  t::FakeNode fin("aten::isfinite");
  fin.Add(t::Value::Tensor({4}));
  Lower(fin, "aten::isfinite");
  EXPECT_EQ(fin.OutputOp()->type, "less_equal");
  EXPECT_FLOAT_EQ(static_cast<float>(fin.ArgScalar(*fin.OutputOp(), "y")), 3.4028235e38f);
  t::FakeNode neg("aten::isneginf");
  neg.Add(t::Value::Tensor({4}));
  Lower(neg, "aten::isneginf", T2C_DTYPE_FP16);
  EXPECT_EQ(neg.OutputOp()->type, "less");
  EXPECT_EQ(neg.ArgScalar(*neg.OutputOp(), "y"), -65504.0);
  // Integers are never NaN nor infinite, always finite.
  t::FakeNode ifin("aten::isfinite");
  ifin.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32));
  Lower(ifin, "aten::isfinite");
  EXPECT_EQ(ifin.OutputOp()->type, "equal");
  EXPECT_EQ(ifin.ArgVar(*ifin.OutputOp(), "x"), ifin.ArgVar(*ifin.OutputOp(), "y"));
}

TEST(LogicalTest, BoolOpsAndBitwiseRefusals) {
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"aten::logical_and", "logical_and"},        {"aten::logical_or", "logical_or"},
      {"aten::logical_xor", "logical_xor"},        {"aten::__and__.Tensor", "logical_and"},
      {"aten::__or__.Tensor", "logical_or"},       {"aten::__xor__.Tensor", "logical_xor"},
      {"aten::bitwise_and.Tensor", "logical_and"}, {"aten::bitwise_or.Tensor", "logical_or"}};
  for (const auto& [op, mil] : ops) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
    Lower(n, op);
    EXPECT_EQ(n.op_types(), Ops{mil}) << op;
    EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {2, 3})) << op;
  }
  t::FakeNode i("aten::bitwise_and.Tensor");
  i.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  ExpectRefused(i, "aten::bitwise_and.Tensor", "MIL has no bitwise ops");
  t::FakeNode inv("aten::bitwise_not");
  inv.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  ExpectRefused(inv, "aten::bitwise_not", "MIL has no bitwise ops");
  t::FakeNode ok("aten::bitwise_not");
  ok.Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
  Lower(ok, "aten::bitwise_not");
  EXPECT_EQ(ok.op_types(), Ops{"logical_not"});
  // logical ops on numbers infer bool (the core converts the operands: non-zero is true).
  t::FakeNode f("aten::logical_and");
  f.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  ASSERT_TRUE(f.Infer(Decl("aten::logical_and"))) << f.error();
  EXPECT_EQ(f.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {3}));
  EXPECT_EQ(Decl("aten::logical_and").inputs[0].dtypes, T2C_DTYPE_BIT(T2C_DTYPE_BOOL));
}

TEST(ClampTest, BoundsBecomeMaximumThenMinimum) {
  t::FakeNode both("aten::clamp");
  both.Add(t::Value::Tensor({2, 3})).Add(t::Value::Float(-0.5)).Add(t::Value::Float(0.5));
  Lower(both, "aten::clamp", T2C_DTYPE_FP16);
  EXPECT_EQ(both.op_types(), (Ops{"maximum", "minimum"}));
  EXPECT_EQ(both.ArgScalar(both.ops()[0], "y"), -0.5);
  EXPECT_EQ(both.ArgType(both.ops()[0], "y").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(both.ArgScalar(*both.OutputOp(), "y"), 0.5);
  t::FakeNode max_only("aten::clamp");
  max_only.Add(t::Value::Tensor({2, 3})).Add(t::Value::None()).Add(t::Value::Int(1));
  Lower(max_only, "aten::clamp");
  EXPECT_EQ(max_only.op_types(), Ops{"minimum"});
  t::FakeNode none("aten::clamp");
  none.Add(t::Value::Tensor({2, 3})).Add(t::Value::None()).Add(t::Value::None());
  ExpectRefused(none, "aten::clamp", "at least one of min and max");
  // Integers stay integers with integer bounds and become floats with a float bound.
  t::FakeNode ints("aten::clamp");
  ints.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Int(-3)).Add(t::Value::Int(4));
  Lower(ints, "aten::clamp");
  EXPECT_EQ(ints.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4}));
  t::FakeNode mixed("aten::clamp");
  mixed.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Float(-2.5));
  mixed.Add(t::Value::None());
  Lower(mixed, "aten::clamp");
  EXPECT_EQ(mixed.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {4}));
  EXPECT_EQ(mixed.ArgType(*mixed.OutputOp(), "x").dtype, T2C_DTYPE_FP32);
}

TEST(ClampTest, TensorBoundsBroadcastAndOneSidedForms) {
  t::FakeNode n("aten::clamp.Tensor");
  n.Add(t::Value::Tensor({2, 1, 8})).Add(t::Value::Tensor({3, 1})).Add(t::Value::Tensor({8}));
  Lower(n, "aten::clamp.Tensor");
  EXPECT_EQ(n.planned().shape, (Shape{2, 3, 8}));
  EXPECT_EQ(n.ArgInputIndex(n.ops()[0], "y"), 1);
  EXPECT_EQ(n.ArgInputIndex(*n.OutputOp(), "y"), 2);
  t::FakeNode lo("aten::clamp_min");
  lo.Add(t::Value::Tensor({3})).Add(t::Value::Float(0.1));
  Lower(lo, "aten::clamp_min");
  EXPECT_EQ(lo.op_types(), Ops{"maximum"});
  t::FakeNode hi("aten::clamp_max.Tensor");
  hi.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({1}));
  Lower(hi, "aten::clamp_max.Tensor");
  EXPECT_EQ(hi.op_types(), Ops{"minimum"});
  t::FakeNode bad("aten::clamp.Tensor");
  bad.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({4})).Add(t::Value::None());
  EXPECT_FALSE(bad.Infer(Decl("aten::clamp.Tensor")));
}

TEST(MinMaxTest, NumbersBoolsAndNanIgnoringForms) {
  t::FakeNode m("aten::max.other");
  m.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3}));
  Lower(m, "aten::max.other");
  EXPECT_EQ(m.op_types(), Ops{"maximum"});
  t::FakeNode b("aten::minimum");
  b.Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
  Lower(b, "aten::minimum");
  EXPECT_EQ(b.op_types(), Ops{"logical_and"});
  t::FakeNode f("aten::fmax");
  f.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3}));
  Lower(f, "aten::fmax", T2C_DTYPE_FP16);
  EXPECT_EQ(f.op_types(), (Ops{"maximum", "not_equal", "select", "not_equal", "select"}));
  EXPECT_EQ(f.ArgInputIndex(*f.OutputOp(), "a"), 1);  // x is NaN: y
  t::FakeNode fi("aten::fmin");
  fi.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  Lower(fi, "aten::fmin");
  EXPECT_EQ(fi.op_types(), Ops{"minimum"});
}

TEST(WhereTest, PromotesAndBroadcasts) {
  t::FakeNode n("aten::where.ScalarOther");
  n.Add(t::Value::Tensor({2, 1}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  n.Add(t::Value::Float(0.5));
  Lower(n, "aten::where.ScalarOther", T2C_DTYPE_FP16);
  EXPECT_EQ(n.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {2, 3}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "select");
  EXPECT_EQ(n.ArgInputIndex(*op, "cond"), 0);
  EXPECT_EQ(n.ArgType(*op, "a").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(n.ArgScalar(*op, "b"), 0.5);
  t::FakeNode ints("aten::where.self");
  ints.Add(t::Value::Tensor({4}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({4}, T2C_DTYPE_INT32));
  ints.Add(t::Value::Int(7));
  Lower(ints, "aten::where.self");
  EXPECT_EQ(ints.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4}));
  t::FakeNode bools("aten::where.self");
  bools.Add(t::Value::Tensor({4}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({4}, T2C_DTYPE_BOOL));
  bools.Add(t::Value::Tensor({1}, T2C_DTYPE_BOOL));
  Lower(bools, "aten::where.self");
  EXPECT_EQ(bools.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {4}));
  t::FakeNode bad("aten::where.self");
  bad.Add(t::Value::Tensor({5}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({4}));
  bad.Add(t::Value::Tensor({4}));
  EXPECT_FALSE(bad.Infer(Decl("aten::where.self")));
}

TEST(FloatBinaryTest, Atan2HypotCopysign) {
  t::FakeNode a("aten::atan2");
  a.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  Lower(a, "aten::atan2", T2C_DTYPE_FP16);
  EXPECT_EQ(a.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {2, 3}));
  EXPECT_EQ(a.op_types(), (Ops{"real_div", "atan", "less", "select", "add", "less", "select",
                               "equal", "equal", "logical_and", "select"}));
  const t::FakeOp* shift = a.FindOp("select");
  EXPECT_NEAR(a.ArgScalar(*shift, "a"), -3.14159265, 1e-3);
  EXPECT_NEAR(a.ArgScalar(*shift, "b"), 3.14159265, 1e-3);
  EXPECT_EQ(a.ArgInputIndex(*a.OutputOp(), "a"), 0);  // both zero: y itself
  t::FakeNode h("aten::hypot");
  h.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3}));
  Lower(h, "aten::hypot", T2C_DTYPE_FP16);
  EXPECT_EQ(h.op_types(), (Ops{"abs", "abs", "maximum", "minimum", "real_div", "square", "add",
                               "sqrt", "mul", "equal", "select"}));
  t::FakeNode c("aten::copysign.Tensor");
  c.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({1}));
  Lower(c, "aten::copysign.Tensor");
  EXPECT_EQ(c.OutputOp()->type, "select");
  EXPECT_NE(c.FindOp("logical_or"), nullptr);
}

TEST(FmodTest, DividendSignAndZeroDivisor) {
  t::FakeNode s("aten::fmod.Scalar");
  s.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Int(3));
  Lower(s, "aten::fmod.Scalar");
  EXPECT_EQ(s.planned(), sdk::TensorType(T2C_DTYPE_INT32, {4}));
  EXPECT_EQ(s.op_types(), (Ops{"mod", "not_equal", "less", "less", "logical_xor", "logical_and",
                               "sub", "select"}));
  EXPECT_EQ(s.ArgScalar(s.ops()[0], "y"), 3.0);
  t::FakeNode f("aten::fmod.Scalar");
  f.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Float(1.5));
  Lower(f, "aten::fmod.Scalar");
  EXPECT_EQ(f.inferred().dtype, T2C_DTYPE_FP32);
  t::FakeNode z("aten::fmod.Scalar");
  z.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Int(0));
  ExpectRefused(z, "aten::fmod.Scalar", "integer fmod by zero");
  t::FakeNode t2("aten::fmod.Tensor");
  t2.Add(t::Value::Tensor({2, 4})).Add(t::Value::Tensor({4}));
  Lower(t2, "aten::fmod.Tensor", T2C_DTYPE_FP16);
  EXPECT_EQ(t2.planned(), sdk::TensorType(T2C_DTYPE_FP16, {2, 4}));
}

TEST(LerpAddcTest, Compositions) {
  t::FakeNode l("aten::lerp.Scalar");
  l.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3})).Add(t::Value::Float(0.3));
  Lower(l, "aten::lerp.Scalar", T2C_DTYPE_FP16);
  EXPECT_EQ(l.op_types(), (Ops{"sub", "mul", "add", "sub", "mul", "sub", "abs", "less", "select"}));
  EXPECT_EQ(l.ArgScalar(*l.FindOp("less"), "y"), 0.5);
  t::FakeNode m("aten::addcmul");
  m.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3})).Add(t::Value::Tensor({2, 1}));
  m.Add(t::Value::Float(0.5));
  Lower(m, "aten::addcmul");
  EXPECT_EQ(m.op_types(), (Ops{"mul", "mul", "add"}));
  EXPECT_EQ(m.ArgScalar(m.ops()[0], "y"), 0.5);
  t::FakeNode d("aten::addcdiv");
  d.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3}));
  d.Add(t::Value::Int(1));
  Lower(d, "aten::addcdiv");
  EXPECT_EQ(d.op_types(), (Ops{"real_div", "add"}));
  t::FakeNode bad("aten::addcmul");
  bad.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  bad.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Float(0.5));
  ExpectRefused(bad, "aten::addcmul", "value 0.5 must be integral");
}

TEST(PowTest, IntegerPowersStayIntegers) {
  t::FakeNode n("aten::pow.Tensor_Scalar");
  n.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Int(2));
  Lower(n, "aten::pow.Tensor_Scalar");
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3}));
  EXPECT_EQ(n.ArgType(*n.OutputOp(), "y").dtype, T2C_DTYPE_INT32);
  t::FakeNode f("aten::pow.Tensor_Scalar");
  f.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Float(0.5));
  Lower(f, "aten::pow.Tensor_Scalar");
  EXPECT_EQ(f.inferred().dtype, T2C_DTYPE_FP32);
}

}  // namespace
}  // namespace ts2coreml::plugins
