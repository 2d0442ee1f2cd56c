#include "core/mil/program.h"

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "core/mil/fp16.h"
#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

TEST(MilProgramTest, SanitizeName) {
  EXPECT_EQ(SanitizeName("ok_1"), "ok_1");
  EXPECT_EQ(SanitizeName("a.b"), "a_b");
  EXPECT_EQ(SanitizeName("input.1"), "input_1");
  EXPECT_EQ(SanitizeName("1x"), "_1x");
  EXPECT_EQ(SanitizeName(""), "_");
  EXPECT_EQ(SanitizeName("x@y"), "x_y");
  EXPECT_EQ(SanitizeName("a-b c"), "a_b_c");
}

TEST(MilProgramTest, NamesAreMadeUnique) {
  Function f("CoreML6");
  const VarId a = f.AddInput("x", {DType::kFloat32, {1}});
  const VarId b = f.AddInput("x", {DType::kFloat32, {1}});
  const VarId c = f.AddConst("x", ConstValue::String("s"));
  const VarId d = f.AddInput("x.1", {DType::kFloat32, {1}});  // sanitizes to x_1, taken
  EXPECT_EQ(f.var(a).name, "x");
  EXPECT_EQ(f.var(b).name, "x_1");
  EXPECT_EQ(f.var(c).name, "x_2");
  EXPECT_NE(f.var(d).name, "x_1");
  EXPECT_EQ(f.ops().at(0).name, "x_2");  // a const op is named after its var
}

TEST(MilProgramTest, AddOpBuildsOutputsAndNames) {
  Function f("CoreML6");
  const VarId x = f.AddInput("x", {DType::kFloat32, {1, 3}});
  absl::StatusOr<std::vector<VarId>> y =
      f.AddOp("relu", "y", {{"x", {x}}}, {{DType::kFloat32, {1, 3}}});
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(y->size(), 1u);
  EXPECT_EQ(f.var((*y)[0]).name, "y");
  EXPECT_EQ(f.var((*y)[0]).producer, 0);
  EXPECT_EQ(f.ops().at(0).name, "y_op");
  absl::StatusOr<std::vector<VarId>> parts =
      f.AddOp("split", "p", {{"x", {x}}}, {{DType::kFloat32, {1, 1}}, {DType::kFloat32, {1, 2}}});
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(f.var((*parts)[0]).name, "p_0");
  EXPECT_EQ(f.var((*parts)[1]).name, "p_1");
  EXPECT_TRUE(f.AddOutput((*y)[0]).ok());
  EXPECT_EQ(f.outputs(), std::vector<VarId>{(*y)[0]});
}

TEST(MilProgramTest, AddOpRejectsBadInputs) {
  Function f("CoreML6");
  const VarId x = f.AddInput("x", {DType::kFloat32, {1}});
  EXPECT_EQ(f.AddOp("relu", "y", {{"x", {x + 5}}}, {{DType::kFloat32, {1}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.AddOp("relu", "y", {{"x", {0}}}, {{DType::kFloat32, {1}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.AddOp("relu", "y", {{"x", {}}}, {{DType::kFloat32, {1}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.AddOp("", "y", {{"x", {x}}}, {{DType::kFloat32, {1}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(f.ops().empty());  // failed calls add nothing
  EXPECT_EQ(f.vars().size(), 1u);
  EXPECT_FALSE(f.AddOutput(42).ok());
}

TEST(MilProgramTest, RenameVar) {
  Function f("CoreML6");
  const VarId x = f.AddInput("x", {DType::kFloat32, {1}});
  const float one = 1.0f;
  const VarId c = f.AddConst("c", ConstValue::Float32({}, &one));
  EXPECT_EQ(f.RenameVar(c, "x").code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(f.RenameVar(c, "out.0").ok());
  EXPECT_EQ(f.var(c).name, "out_0");
  EXPECT_EQ(f.ops().at(0).name, "out_0");
  EXPECT_TRUE(f.RenameVar(x, "x").ok());  // renaming to its own name is a no-op
  EXPECT_FALSE(f.RenameVar(99, "z").ok());
}

TEST(MilProgramTest, ConstValues) {
  const float values[] = {1.0f, 0.5f, 65520.0f};
  ConstValue h = ConstValue::Float16({3}, values);
  EXPECT_EQ(h.type.dtype, DType::kFloat16);
  ASSERT_EQ(h.bytes.size(), 6u);
  uint16_t halves[3];
  std::memcpy(halves, h.bytes.data(), sizeof halves);
  EXPECT_EQ(halves[0], 0x3c00);
  EXPECT_EQ(halves[1], 0x3800);
  EXPECT_EQ(halves[2], 0x7c00);
  ConstValue f = ConstValue::Float32({1, 3}, values);
  EXPECT_EQ(f.bytes.size(), 12u);
  EXPECT_EQ(f.type.ToString(), "fp32[1,3]");
  EXPECT_EQ(f.type.numel(), 3);
  const bool flags[] = {true, false};
  ConstValue b = ConstValue::Bool({2}, flags);
  EXPECT_EQ(b.bytes, (std::vector<uint8_t>{1, 0}));
  ConstValue s = ConstValue::String("valid");
  EXPECT_EQ(s.type.numel(), 1);
  EXPECT_EQ(s.strings, std::vector<std::string>{"valid"});
  EXPECT_EQ(DTypeSize(DType::kFloat16), 2u);
  EXPECT_EQ(DTypeName(DType::kInt32), "int32");
}

}  // namespace
}  // namespace ts2coreml::mil
