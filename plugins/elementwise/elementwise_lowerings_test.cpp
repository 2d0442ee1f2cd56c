/// Tests of the elementwise family: int/float classes, alpha, Scalar
/// overloads, true and floor division; and the fake host's contract checks.
#include "elementwise/elementwise_lowerings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

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

TEST(ElementwiseTest, MulBroadcastsSqueezeExcitation) {
  t::FakeNode n("aten::mul.Tensor");
  n.Add(t::Value::Tensor({1, 16, 1, 1})).Add(t::Value::Tensor({1, 16, 28, 28}));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::mul.Tensor"))) << n.error();
  EXPECT_EQ(Decl("aten::mul.Tensor").infer_rule, T2C_INFER_BROADCAST);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 16, 28, 28}));
  EXPECT_EQ(n.OutputOp()->type, "mul");
  EXPECT_EQ(n.OutputOp()->ArgNames(), (std::vector<std::string>{"x", "y"}));
}

TEST(ElementwiseTest, IncompatibleShapesFailInference) {
  t::FakeNode n("aten::add.Tensor");
  n.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3, 2})).Add(t::Value::Int(1));
  EXPECT_FALSE(n.Infer(Decl("aten::add.Tensor")));
}

TEST(ElementwiseTest, AddWithAlphaScalesOther) {
  t::FakeNode n("aten::add.Tensor");
  n.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({3})).Add(t::Value::Float(2.5));
  ASSERT_TRUE(n.Lower(Decl("aten::add.Tensor"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"mul", "add"}));
  const t::FakeOp* mul = n.FindOp("mul");
  EXPECT_EQ(n.ArgInputIndex(*mul, "x"), 1);
  EXPECT_EQ(n.ArgScalar(*mul, "y"), 2.5);
  EXPECT_EQ(mul->output_types[0].shape, (Shape{3}));
  EXPECT_EQ(n.ArgVar(*n.OutputOp(), "y"), mul->outputs[0]);
}

TEST(ElementwiseTest, AddAlphaOneEmitsOneOp) {
  t::FakeNode n("aten::add.Tensor");
  n.Add(t::Value::Tensor({2, 3})).Add(t::Value::Tensor({2, 3})).Add(t::Value::Int(1));
  ASSERT_TRUE(n.Lower(Decl("aten::add.Tensor"))) << n.error();
  EXPECT_EQ(n.op_types(), Ops{"add"});
}

TEST(ElementwiseTest, ScalarOverloadMaterializesNumber) {
  t::FakeNode n("aten::sub.Scalar");
  n.Add(t::Value::Tensor({4})).Add(t::Value::Float(0.5)).Add(t::Value::Int(1));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::sub.Scalar"))) << n.error();
  const t::FakeOp* sub = n.OutputOp();
  ASSERT_EQ(sub->type, "sub");
  EXPECT_EQ(n.ArgType(*sub, "y"), sdk::TensorType(T2C_DTYPE_FP16, {}));
  EXPECT_EQ(n.ArgScalar(*sub, "y"), 0.5);
}

TEST(ElementwiseTest, IntOperandsStayInt) {
  t::FakeNode n("aten::add.Tensor");
  n.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Int(2)).Add(t::Value::Int(3));
  ASSERT_TRUE(n.Lower(Decl("aten::add.Tensor"))) << n.error();
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_INT32, {3}));
  const t::FakeOp* mul = n.FindOp("mul");
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(n.ArgType(*mul, "y"), sdk::TensorType(T2C_DTYPE_INT32, {}));
  EXPECT_EQ(n.ArgScalar(*mul, "y"), 3);
}

TEST(ElementwiseTest, DivIsAlwaysFloat) {
  t::FakeNode n("aten::div.Tensor");
  n.Add(t::Value::Tensor({2, 2}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({2}, T2C_DTYPE_INT32));
  ASSERT_TRUE(n.Lower(Decl("aten::div.Tensor"))) << n.error();
  EXPECT_EQ(n.inferred(), sdk::TensorType(T2C_DTYPE_FP32, {2, 2}));
  EXPECT_EQ(n.OutputOp()->type, "real_div");
  EXPECT_EQ(Decl("aten::div.Tensor").inputs[0].dtypes, T2C_MASK_FLOAT);
}

TEST(ElementwiseTest, DivRoundingModes) {
  t::FakeNode floor("aten::div.Tensor_mode");
  floor.Add(t::Value::Tensor({2}, T2C_DTYPE_INT32)).Add(t::Value::Int(2));
  floor.Add(t::Value::String("floor"));
  ASSERT_TRUE(floor.Lower(Decl("aten::div.Tensor_mode"))) << floor.error();
  EXPECT_EQ(floor.inferred().dtype, T2C_DTYPE_INT32);
  EXPECT_EQ(floor.OutputOp()->type, "floor_div");
  // trunc on floats: select(q >= 0, floor(q), ceil(q)) with q = x / y.
  t::FakeNode trunc("aten::div.Tensor_mode");
  trunc.Add(t::Value::Tensor({2})).Add(t::Value::Tensor({2})).Add(t::Value::String("trunc"));
  trunc.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(trunc.Lower(Decl("aten::div.Tensor_mode"))) << trunc.error();
  EXPECT_EQ(trunc.op_types(), (Ops{"real_div", "greater_equal", "floor", "ceil", "select"}));
  EXPECT_EQ(trunc.ArgType(*trunc.FindOp("greater_equal"), "y").dtype, T2C_DTYPE_FP16);
  const t::FakeOp* sel = trunc.OutputOp();
  EXPECT_EQ(trunc.Producer(trunc.ArgVar(*sel, "a"))->type, "floor");
  EXPECT_EQ(trunc.Producer(trunc.ArgVar(*sel, "b"))->type, "ceil");
  // trunc on ints: the floor quotient, +1 where the remainder is non-zero and signs differ.
  t::FakeNode itrunc("aten::div.Scalar_mode");
  itrunc.Add(t::Value::Tensor({3}, T2C_DTYPE_INT32)).Add(t::Value::Int(-2));
  itrunc.Add(t::Value::String("trunc"));
  ASSERT_TRUE(itrunc.Lower(Decl("aten::div.Scalar_mode"))) << itrunc.error();
  EXPECT_EQ(itrunc.inferred().dtype, T2C_DTYPE_INT32);
  EXPECT_EQ(itrunc.op_types(), (Ops{"floor_div", "mod", "not_equal", "less", "less", "logical_xor",
                                    "logical_and", "add", "select"}));
  t::FakeNode bad("aten::div.Tensor_mode");
  bad.Add(t::Value::Tensor({2})).Add(t::Value::Tensor({2})).Add(t::Value::String("round"));
  EXPECT_FALSE(bad.Infer(Decl("aten::div.Tensor_mode")));
  EXPECT_NE(bad.error().find("rounding_mode='round' is not one of"), std::string::npos);
}

// --- the fake host's own contract checks, exercised with hand-written lowerings -------------

sdk::Status EmitsCast(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var d, ctx.ConstString("fp16"));
  return ctx.EmitOutput("cast", {{"x", x}, {"dtype", d}});
}
sdk::Status WrongOutputType(sdk::LowerContext& ctx) {
  // A valid relu (of an fp32[9] constant), bound to an output planned fp16[4].
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var c,
                             ctx.ConstFloats(T2C_DTYPE_FP32, std::vector<float>(9, 1.0f), {9}));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y,
                             ctx.Emit1("relu", {{"x", c}}, sdk::TensorType(T2C_DTYPE_FP32, {9})));
  return ctx.SetOutput(0, y);
}
sdk::Status UnknownVar(sdk::LowerContext& ctx) {
  return ctx.EmitOutput("relu", {{"x", sdk::Var{12345}}});
}
sdk::Status ReadsTensorAsHost(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t v, ctx.Int(0));
  (void)v;
  return sdk::Status::Ok();
}
sdk::Status LeavesOutputUnbound(sdk::LowerContext&) { return sdk::Status::Ok(); }

constexpr const char* kTestOps[] = {"test::op"};
constexpr t2c_input_decl kTestInputs[] = {sdk::Tensor("self")};

TEST(FakeHostTest, ContractViolationsAreReported) {
  struct Case {
    t2c_lowering_decl decl;
    const char* message;
  };
  const Case cases[] = {
      {sdk::Lowering("cast", kTestOps, kTestInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                     nullptr, sdk::LowerFn<EmitsCast>),
       "never emits \"cast\""},
      {sdk::Lowering("type", kTestOps, kTestInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                     nullptr, sdk::LowerFn<WrongOutputType>),
       "output 0 is fp32[9] but planned fp16[4]"},
      {sdk::Lowering("var", kTestOps, kTestInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                     nullptr, sdk::LowerFn<UnknownVar>),
       "unknown var 12345"},
      {sdk::Lowering("host", kTestOps, kTestInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                     nullptr, sdk::LowerFn<ReadsTensorAsHost>),
       "not T2C_ROLE_HOST"},
      {sdk::Lowering("unbound", kTestOps, kTestInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
                     nullptr, sdk::LowerFn<LeavesOutputUnbound>),
       "output 0 unbound"},
  };
  for (const Case& c : cases) {
    t::FakeNode n("test::op");
    n.Add(t::Value::Tensor({4})).Precision(T2C_DTYPE_FP16);
    EXPECT_FALSE(n.Lower(c.decl)) << c.decl.name;
    EXPECT_NE(n.error().find(c.message), std::string::npos) << c.decl.name << ": " << n.error();
  }
}

TEST(ElementwiseTest, FloorDivideRemainderPowRsub) {
  struct Case {
    std::string op;
    t::Value a, b;
    t2c_dtype out_dtype;
    std::string mil;
  };
  for (const Case& c : std::vector<Case>{
           {"aten::floor_divide", t::Value::Tensor({2, 3}, T2C_DTYPE_INT32),
            t::Value::Tensor({3}, T2C_DTYPE_INT32), T2C_DTYPE_INT32, "floor_div"},
           {"aten::floor_divide.Scalar", t::Value::Tensor({2, 3}), t::Value::Int(2), T2C_DTYPE_FP32,
            "floor_div"},
           {"aten::remainder.Scalar", t::Value::Tensor({4}, T2C_DTYPE_INT32), t::Value::Int(7),
            T2C_DTYPE_INT32, "mod"},
           {"aten::remainder.Tensor", t::Value::Tensor({4}), t::Value::Tensor({1}), T2C_DTYPE_FP32,
            "mod"},
           {"aten::pow.Tensor_Scalar", t::Value::Tensor({2, 2}), t::Value::Float(-0.5),
            T2C_DTYPE_FP32, "pow"},
           {"aten::pow.Tensor_Scalar", t::Value::Tensor({2, 2}), t::Value::Int(2), T2C_DTYPE_FP32,
            "pow"},
       }) {
    t::FakeNode n(c.op);
    n.Add(c.a).Add(c.b);
    ASSERT_TRUE(n.Lower(Decl(c.op))) << c.op << ": " << n.error();
    EXPECT_EQ(n.inferred().dtype, c.out_dtype) << c.op;
    const t::FakeOp* op = n.OutputOp();
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->type, c.mil) << c.op;
    EXPECT_EQ(n.ArgType(*op, "x").dtype, n.ArgType(*op, "y").dtype) << c.op;
  }
  // rsub(self, other, alpha) = other - alpha * self.
  t::FakeNode r("aten::rsub.Scalar");
  r.Add(t::Value::Tensor({2, 2})).Add(t::Value::Float(1.0)).Add(t::Value::Float(2.0));
  ASSERT_TRUE(r.Lower(Decl("aten::rsub.Scalar"))) << r.error();
  EXPECT_EQ(r.op_types(), (Ops{"mul", "sub"}));
  const t::FakeOp* sub = r.OutputOp();
  EXPECT_EQ(r.ArgScalar(*sub, "x"), 1.0);
  EXPECT_EQ(r.Producer(r.ArgVar(*sub, "y")), &r.ops()[0]);
  EXPECT_EQ(r.ArgScalar(r.ops()[0], "y"), 2.0);
}

TEST(ElementwiseTest, IntegerToNegativeIntegerPowerIsRefused) {
  // PyTorch raises for an integer tensor to a negative integer number; a float on either side,
  // or an exponent of 0 and up, converts.
  t::FakeNode n("aten::pow.Tensor_Scalar");
  n.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Int(-2));
  EXPECT_FALSE(n.Infer(Decl("aten::pow.Tensor_Scalar")));
  EXPECT_NE(n.error().find("aten::pow.Tensor_Scalar: an integer tensor to the negative integer "
                           "power -2 raises in PyTorch"),
            std::string::npos)
      << n.error();
  for (const t::Value& ok : {t::Value::Int(0), t::Value::Float(-2)}) {
    t::FakeNode p("aten::pow.Tensor_Scalar");
    p.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(ok);
    EXPECT_TRUE(p.Infer(Decl("aten::pow.Tensor_Scalar"))) << p.error();
  }
  t::FakeNode f("aten::pow.Tensor_Scalar");
  f.Add(t::Value::Tensor({4})).Add(t::Value::Int(-2));
  EXPECT_TRUE(f.Infer(Decl("aten::pow.Tensor_Scalar"))) << f.error();
}

TEST(ElementwiseTest, ComparisonsGiveBool) {
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"aten::eq", "equal"},      {"aten::ne", "not_equal"}, {"aten::lt", "less"},
      {"aten::le", "less_equal"}, {"aten::gt", "greater"},   {"aten::ge", "greater_equal"}};
  for (const auto& [op, mil] : ops) {
    t::FakeNode s(op + ".Scalar");
    s.Add(t::Value::Tensor({64, 49, 49})).Add(t::Value::Int(0));
    s.Precision(T2C_DTYPE_FP16);
    ASSERT_TRUE(s.Lower(Decl(op + ".Scalar"))) << op << ": " << s.error();
    EXPECT_EQ(s.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {64, 49, 49}));
    EXPECT_EQ(s.OutputOp()->type, mil);
    // The number is stored in the dtype of the tensor it is compared with.
    EXPECT_EQ(s.ArgType(*s.OutputOp(), "y").dtype, T2C_DTYPE_FP16);
    EXPECT_EQ(s.ArgScalar(*s.OutputOp(), "y"), 0.0);

    t::FakeNode t2(op + ".Tensor");
    t2.Add(t::Value::Tensor({3, 1}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({4}, T2C_DTYPE_INT32));
    ASSERT_TRUE(t2.Lower(Decl(op + ".Tensor"))) << op << ": " << t2.error();
    EXPECT_EQ(t2.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {3, 4}));
  }
  // Mixed and bool operands are planned alike by the core (floats, or ints beside a bool).
  t::FakeNode mixed("aten::eq.Tensor");
  mixed.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({3}, T2C_DTYPE_INT32));
  ASSERT_TRUE(mixed.Infer(Decl("aten::eq.Tensor"))) << mixed.error();
  EXPECT_EQ(mixed.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {3}));
  t::FakeNode bools("aten::ne.Tensor");
  bools.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_BOOL)).Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
  ASSERT_TRUE(bools.Infer(Decl("aten::ne.Tensor"))) << bools.error();
  EXPECT_EQ(bools.inferred(), sdk::TensorType(T2C_DTYPE_BOOL, {2, 3}));
}

TEST(ElementwiseTest, BoolAgainstIntComparesTheIntWithZeroAndOne) {
  // The core plans the bool operand as a 0/1 float and keeps the int: select on the bool.
  t::FakeNode n("aten::lt.Tensor");
  n.Add(t::Value::Tensor({2, 3}, T2C_DTYPE_INT32)).Add(t::Value::Tensor({3}, T2C_DTYPE_BOOL));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::lt.Tensor"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"not_equal", "less", "less", "select"}));
  EXPECT_EQ(n.ArgInputIndex(*n.FindOp("not_equal"), "x"), 1);
  const t::FakeOp* when0 = n.FindOp("less");
  EXPECT_EQ(n.ArgInputIndex(*when0, "x"), 0);
  EXPECT_EQ(n.ArgScalar(*when0, "y"), 0.0);
  const t::FakeOp* sel = n.OutputOp();
  EXPECT_EQ(n.ArgScalar(*n.Producer(n.ArgVar(*sel, "a")), "y"), 1.0);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_BOOL, {2, 3}));
}

TEST(ElementwiseTest, IntTensorAgainstNonIntegralNumberIsExact) {
  struct Case {
    std::string op;
    double v;
    std::string mil;
    double bound;  // NaN: compared with itself
  };
  const double kSelf = std::nan("");
  for (const Case& c : std::vector<Case>{{"aten::lt.Scalar", 2.5, "less", 3},
                                         {"aten::le.Scalar", 2.5, "less_equal", 2},
                                         {"aten::gt.Scalar", -2.5, "greater", -3},
                                         {"aten::ge.Scalar", -2.5, "greater_equal", -2},
                                         {"aten::lt.Scalar", 1e12, "less", 2147483647},
                                         {"aten::eq.Scalar", 0.5, "not_equal", kSelf},
                                         {"aten::ne.Scalar", 0.5, "equal", kSelf},
                                         {"aten::eq.Scalar", 3.0, "equal", 3}}) {
    t::FakeNode n(c.op);
    n.Add(t::Value::Tensor({4}, T2C_DTYPE_INT32)).Add(t::Value::Float(c.v));
    ASSERT_TRUE(n.Lower(Decl(c.op))) << c.op << ": " << n.error();
    const t::FakeOp* op = n.OutputOp();
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->type, c.mil) << c.op << " " << c.v;
    if (std::isnan(c.bound)) {
      EXPECT_EQ(n.ArgVar(*op, "x"), n.ArgVar(*op, "y")) << c.op;
    } else {
      EXPECT_EQ(n.ArgType(*op, "y").dtype, T2C_DTYPE_INT32) << c.op;
      EXPECT_EQ(n.ArgScalar(*op, "y"), c.bound) << c.op << " " << c.v;
    }
  }
}

TEST(ElementwiseTest, MaskedFillIsSelect) {
  t::FakeNode n("aten::masked_fill.Scalar");
  n.Add(t::Value::Tensor({64, 49, 49}))
      .Add(t::Value::Tensor({1, 49, 49}, T2C_DTYPE_BOOL))
      .Add(t::Value::Float(-100.0));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::masked_fill.Scalar"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{64, 49, 49}));
  const t::FakeOp* op = n.OutputOp();
  ASSERT_EQ(op->type, "select");
  EXPECT_EQ(op->ArgNames(), (Ops{"cond", "a", "b"}));
  EXPECT_EQ(n.ArgType(*op, "cond").dtype, T2C_DTYPE_BOOL);
  EXPECT_EQ(n.ArgScalar(*op, "a"), -100.0);
  EXPECT_EQ(n.ArgType(*op, "a").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(n.ArgInputIndex(*op, "b"), 0);

  t::FakeNode wide("aten::masked_fill.Scalar");
  wide.Add(t::Value::Tensor({1, 49})).Add(t::Value::Tensor({4, 49}, T2C_DTYPE_BOOL));
  wide.Add(t::Value::Float(0));
  EXPECT_FALSE(wide.Infer(Decl("aten::masked_fill.Scalar")));
}

}  // namespace
}  // namespace ts2coreml::plugins
