/// Tests of the elementwise family: broadcasting shapes, int/float classes, alpha, Scalar
/// overloads, true and floor division; and the fake host's contract checks.
#include "elementwise/elementwise_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/broadcast.h"
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

TEST(ElementwiseTest, BroadcastShapes) {
  Shape out;
  ASSERT_TRUE(BroadcastShapes({1, 16, 7, 7}, {1, 16, 1, 1}, &out));
  EXPECT_EQ(out, (Shape{1, 16, 7, 7}));
  ASSERT_TRUE(BroadcastShapes({5, 1, 3}, {4, 1}, &out));
  EXPECT_EQ(out, (Shape{5, 4, 3}));
  ASSERT_TRUE(BroadcastShapes({}, {2, 3}, &out));
  EXPECT_EQ(out, (Shape{2, 3}));
  EXPECT_FALSE(BroadcastShapes({2, 3}, {3, 2}, &out));
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
  t::FakeNode trunc("aten::div.Tensor_mode");
  trunc.Add(t::Value::Tensor({2})).Add(t::Value::Tensor({2})).Add(t::Value::String("trunc"));
  EXPECT_FALSE(trunc.Infer(Decl("aten::div.Tensor_mode")));
  EXPECT_NE(trunc.error().find("rounding_mode='trunc' is not supported"), std::string::npos);
}

// --- the fake host's own contract checks, exercised with hand-written lowerings -------------

sdk::Status EmitsCast(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var d, ctx.ConstString("fp16"));
  return ctx.EmitOutput("cast", {{"x", x}, {"dtype", d}});
}
sdk::Status WrongOutputType(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var y,
                             ctx.Emit1("relu", {{"x", x}}, sdk::TensorType(T2C_DTYPE_FP32, {9})));
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

}  // namespace
}  // namespace ts2coreml::plugins
