// The five MIL mistakes of tests/plugins/broken/bad_mil_plugin.cpp fail in the fake host too, with
// the same message as in the converter: both check emitted ops with ts2coreml/mil_validate.h.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/testing/fake_host.h"
#include "ts2coreml/sdk.h"

#define BAD_MIL_NO_ENTRY
namespace wrong_shape {
#define CASE_WRONG_SHAPE
#include "broken/bad_mil_plugin.cpp"  // NOLINT(build/include)
#undef CASE_WRONG_SHAPE
}  // namespace wrong_shape
namespace misspelled {
#define CASE_MISSPELLED
#include "broken/bad_mil_plugin.cpp"  // NOLINT(build/include)
#undef CASE_MISSPELLED
}  // namespace misspelled
namespace unknown_op {
#define CASE_UNKNOWN_OP
#include "broken/bad_mil_plugin.cpp"  // NOLINT(build/include)
#undef CASE_UNKNOWN_OP
}  // namespace unknown_op
namespace mixed_dtypes {
#define CASE_MIXED_DTYPES
#include "broken/bad_mil_plugin.cpp"  // NOLINT(build/include)
#undef CASE_MIXED_DTYPES
}  // namespace mixed_dtypes
namespace float_for_int {
#define CASE_FLOAT_FOR_INT
#include "broken/bad_mil_plugin.cpp"  // NOLINT(build/include)
#undef CASE_FLOAT_FOR_INT
}  // namespace float_for_int

namespace {

namespace t = ts2coreml::sdk::testing;
using ::testing::HasSubstr;

/// Lowers t2ctest::broken on x: [1, 8] under fp16, as the e2e test converts it.
std::string LowerError(const t2c_lowering_decl* decl) {
  t::FakeNode node("t2ctest::broken");
  node.Add(t::Value::Tensor({1, 8})).Precision(T2C_DTYPE_FP16);
  EXPECT_FALSE(node.Lower(*decl));
  return node.error();
}

TEST(BadMilFakeHostTest, EachMistakeFailsNamingTheInputAtFault) {
  EXPECT_THAT(LowerError(wrong_shape::BadMilLowering()),
              HasSubstr("emitted relu declaring output 0 as fp16[8] where the table infers "
                        "fp16[1,8]"));
  EXPECT_THAT(LowerError(misspelled::BadMilLowering()),
              HasSubstr("emitted reduce_mean with unknown input 'axis' (inputs: x, axes, "
                        "keep_dims)"));
  EXPECT_THAT(LowerError(unknown_op::BadMilLowering()),
              HasSubstr("emitted rsqr, which is not an op of Core ML's opset"));
  EXPECT_THAT(LowerError(mixed_dtypes::BadMilLowering()),
              HasSubstr("emitted mul with input 'y' of dtype fp32 where 'x' is fp16"));
  EXPECT_THAT(LowerError(float_for_int::BadMilLowering()),
              HasSubstr("emitted split with input 'num_splits' of dtype fp32 (accepts int32)"));
}

constexpr const char* kOnesLikeOps[] = {"t2ctest::ones_like"};
constexpr t2c_input_decl kOnesLikeInputs[] = {ts2coreml::sdk::Tensor("x")};

/// ones_like with iOS16's `fill_like`.
ts2coreml::sdk::Status LowerOnesLike(ts2coreml::sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(ts2coreml::sdk::Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(ts2coreml::sdk::TensorType type, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(ts2coreml::sdk::Var one, ctx.ConstFloat(type.dtype, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(ts2coreml::sdk::Var y,
                             ctx.Emit1("fill_like", {{"ref_tensor", x}, {"value", one}}, type));
  return ctx.SetOutput(0, y);
}

TEST(BadMilFakeHostTest, AnOpNewerThanTheTargetIsRefusedNamingTheTarget) {
  // Valid on ios16, refused on ios15 naming the target that allows it.
  static constexpr t2c_lowering_decl kDecl = ts2coreml::sdk::Lowering(
      "ones_like", kOnesLikeOps, kOnesLikeInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
      nullptr, ts2coreml::sdk::LowerFn<LowerOnesLike>);
  t::FakeNode ios15("t2ctest::ones_like");
  ios15.Add(t::Value::Tensor({1, 8})).Target(15);
  EXPECT_FALSE(ios15.Lower(kDecl));
  EXPECT_THAT(ios15.error(),
              HasSubstr("emitted fill_like, which needs target ios16 or later (the target is "
                        "ios15)"));
  t::FakeNode ios16("t2ctest::ones_like");
  ios16.Add(t::Value::Tensor({1, 8})).Target(16);
  EXPECT_TRUE(ios16.Lower(kDecl)) << ios16.error();
}

/// A lowering that picks its op by target through the C++ layer: relu from iOS17 on, refused
/// before.
ts2coreml::sdk::Status ReluFromIos17(ts2coreml::sdk::LowerContext& ctx) {
  if (ctx.DeploymentTarget() < 17) {
    return ts2coreml::sdk::Status::Error("target ios" + std::to_string(ctx.DeploymentTarget()));
  }
  TS2COREML_ASSIGN_OR_RETURN(ts2coreml::sdk::Var x, ctx.Input(0));
  return ctx.EmitOutput("relu", {{"x", x}});
}

TEST(BadMilFakeHostTest, TheCxxLayerReadsTheDeploymentTarget) {
  static constexpr const char* kOps[] = {"test::op"};
  static constexpr t2c_input_decl kInputs[] = {ts2coreml::sdk::Tensor("self")};
  const t2c_lowering_decl decl = ts2coreml::sdk::Lowering(
      "by_target", kOps, kInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0, nullptr,
      ts2coreml::sdk::LowerFn<ReluFromIos17>);
  t::FakeNode ios17("test::op");
  ios17.Add(t::Value::Tensor({4})).Precision(T2C_DTYPE_FP16).Target(17);
  EXPECT_TRUE(ios17.Lower(decl)) << ios17.error();
  t::FakeNode ios16("test::op");
  ios16.Add(t::Value::Tensor({4})).Precision(T2C_DTYPE_FP16).Target(16);
  EXPECT_FALSE(ios16.Lower(decl));
  EXPECT_THAT(ios16.error(), HasSubstr("target ios16"));
}

}  // namespace
