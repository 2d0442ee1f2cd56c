#include "core/mil/program.h"

#include <cstring>
#include <memory>
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

TEST(MilProgramTest, NestedBlocksScopeTheirVars) {
  Function f("CoreML6");
  const VarId x = f.AddInput("x", {DType::kFloat32, {2}});
  const TensorType t{DType::kFloat32, {2}};
  const int loop_body = f.BeginBlock();
  EXPECT_EQ(f.current_block(), loop_body);
  const VarId in = f.AddBlockInput("h", t);
  // A const made inside a block goes to the main block, which every block sees.
  const float k = 2;
  const VarId two = f.AddConst("two", ConstValue::Float32({}, &k));
  EXPECT_EQ(f.var(two).block, 0);
  auto y = f.AddOp("mul", "y", {{"x", {in}}, {"y", {two}}}, {t});
  ASSERT_TRUE(y.ok()) << y.status();
  auto z = f.AddOp("add", "z", {{"x", {(*y)[0]}}, {"y", {x}}}, {t});  // an outer var
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(f.var((*z)[0]).block, loop_body);
  ASSERT_TRUE(f.EndBlock({(*z)[0]}).ok());
  EXPECT_EQ(f.current_block(), 0);
  // The block's vars stay inside it.
  EXPECT_FALSE(f.Visible((*y)[0], 0));
  EXPECT_TRUE(f.Visible(x, loop_body));
  EXPECT_EQ(f.AddOp("relu", "r", {{"x", {(*z)[0]}}}, {t}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An op takes closed blocks of the current block only.
  EXPECT_EQ(f.AddOp("cond", "c", {{"pred", {x}}}, {t}, {0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(f.EndBlock({}).ok());     // no nested block is open
  EXPECT_EQ(f.block(0).ops.size(), 1u);  // the const
  EXPECT_EQ(f.block(loop_body).ops.size(), 2u);
  EXPECT_EQ(f.block(loop_body).inputs, std::vector<VarId>{in});
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

TEST(MilProgramTest, DeferredConstsConvertWhenStreamed) {
  // 70000 fp32 values: more than one piece of the default 65536 elements.
  auto floats = std::make_shared<std::vector<float>>(70000);
  for (size_t i = 0; i < floats->size(); ++i) (*floats)[i] = 0.001f * static_cast<float>(i) - 3.f;
  ConstSource src;
  src.dtype = DType::kFloat32;
  src.data = floats->data();
  src.owner = floats;
  const ConstValue eager = ConstValue::Float16({70000}, floats->data());
  const ConstValue deferred = ConstValue::Deferred(DType::kFloat16, {70000}, src);
  EXPECT_TRUE(deferred.bytes.empty());  // nothing converted up front
  EXPECT_EQ(deferred.byte_size(), eager.bytes.size());
  EXPECT_EQ(deferred.Materialize(), eager.bytes);
  int pieces = 0;
  std::vector<uint8_t> streamed;
  ASSERT_TRUE(deferred
                  .Stream([&](const void* data, size_t n) {
                    ++pieces;
                    const auto* p = static_cast<const uint8_t*>(data);
                    streamed.insert(streamed.end(), p, p + n);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(pieces, 2);
  EXPECT_EQ(streamed, eager.bytes);
  // fp16 source to fp32, and fp32 to fp32 (bytes as they are).
  ConstSource half_src;
  half_src.dtype = DType::kFloat16;
  half_src.data = eager.bytes.data();
  const ConstValue widened = ConstValue::Deferred(DType::kFloat32, {70000}, half_src);
  const std::vector<uint8_t> wide = widened.Materialize();
  ASSERT_EQ(wide.size(), 4u * 70000u);
  float f = 0;
  std::memcpy(&f, wide.data() + 4 * 12345, 4);
  uint16_t h = 0;
  std::memcpy(&h, eager.bytes.data() + 2 * 12345, 2);
  EXPECT_EQ(f, HalfToFloat(h));
  EXPECT_EQ(ConstValue::Deferred(DType::kFloat32, {70000}, src).Materialize(),
            ConstValue::Float32({70000}, floats->data()).bytes);
  // A sink error stops the stream; non-float dtypes cannot be deferred.
  EXPECT_FALSE(deferred.Stream([](const void*, size_t) { return absl::DataLossError("x"); }).ok());
  EXPECT_FALSE(ConstValue::Deferred(DType::kInt32, {3}, src)
                   .Stream([](const void*, size_t) { return absl::OkStatus(); })
                   .ok());
}

}  // namespace
}  // namespace ts2coreml::mil
