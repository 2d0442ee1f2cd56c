/// Tests of affine_grid and grid_sample: base coordinates against PyTorch, the emitted plan per
/// mode and padding, and the refusals.
#include "resize/grid_sample_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "resize/resize_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using sdk::TensorType;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ResizePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

TEST(GridSampleTest, NormalizedPixelsMatchPyTorch) {
  // F.affine_grid(identity, [1, 1, 1, n]) x coordinates.
  const std::vector<float> half = grid_sample::NormalizedPixels(4, false);
  const std::vector<float> expected = {-0.75f, -0.25f, 0.25f, 0.75f};
  ASSERT_EQ(half.size(), expected.size());
  for (size_t i = 0; i < half.size(); ++i) EXPECT_NEAR(half[i], expected[i], 1e-6) << i;
  const std::vector<float> aligned = grid_sample::NormalizedPixels(4, true);
  ASSERT_EQ(aligned.size(), 4u);
  EXPECT_FLOAT_EQ(aligned[0], -1.0f);
  EXPECT_NEAR(aligned[1], -1.0f / 3, 1e-6);
  EXPECT_FLOAT_EQ(aligned[3], 1.0f);
  EXPECT_EQ(grid_sample::NormalizedPixels(1, false), (std::vector<float>{0.0f}));
}

TEST(GridSampleTest, AffineGridIsOneMatmul) {
  t::FakeNode n("aten::affine_grid_generator");
  n.Add(t::Value::Tensor({2, 2, 3})).Add(t::Value::Ints({2, 3, 4, 5})).Add(t::Value::Bool(false));
  ASSERT_TRUE(n.Lower(Decl("aten::affine_grid_generator"))) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{2, 4, 5, 2}));
  const t::FakeOp* mm = n.FindOp("matmul", 0);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(n.ArgType(*mm, "x").shape, (Shape{20, 3}));
  const std::vector<double> base = n.ArgValues(*mm, "x");
  // Point 6 is row 1, column 1: x = -0.4, y = -0.25 (F.affine_grid of the identity).
  EXPECT_NEAR(base[6 * 3 + 0], -0.4, 1e-6);
  EXPECT_NEAR(base[6 * 3 + 1], -0.25, 1e-6);
  EXPECT_EQ(base[6 * 3 + 2], 1.0);
  EXPECT_EQ(n.ArgScalar(*mm, "transpose_y"), 1);

  t::FakeNode vol("aten::affine_grid_generator");
  vol.Add(t::Value::Tensor({1, 3, 4})).Add(t::Value::Ints({1, 1, 2, 3, 4}));
  vol.Add(t::Value::Bool(true));
  ASSERT_TRUE(vol.Lower(Decl("aten::affine_grid_generator"))) << vol.error();
  EXPECT_EQ(vol.planned().shape, (Shape{1, 2, 3, 4, 3}));

  t::FakeNode bad("aten::affine_grid_generator");
  bad.Add(t::Value::Tensor({2, 2, 3})).Add(t::Value::Ints({1, 3, 4, 5})).Add(t::Value::Bool(false));
  EXPECT_FALSE(bad.Infer(Decl("aten::affine_grid_generator")));
}

t::FakeNode Sampler(int64_t mode, int64_t padding, bool align) {
  t::FakeNode n("aten::grid_sampler");
  n.Add(t::Value::Tensor({2, 3, 5, 6})).Add(t::Value::Tensor({2, 4, 7, 2}));
  n.Add(t::Value::Int(mode)).Add(t::Value::Int(padding)).Add(t::Value::Bool(align));
  return n;
}

TEST(GridSampleTest, ModesAndPaddings) {
  for (int64_t mode : {0, 1}) {
    for (int64_t padding : {0, 1, 2}) {
      for (bool align : {false, true}) {
        SCOPED_TRACE(std::to_string(mode) + " " + std::to_string(padding) + " " +
                     std::to_string(align));
        t::FakeNode n = Sampler(mode, padding, align);
        n.Precision(T2C_DTYPE_FP16);
        ASSERT_TRUE(n.Lower(Decl("aten::grid_sampler"))) << n.error();
        // Coordinates need fp32: the policy keeps this node out of fp16.
        EXPECT_EQ(n.planned(), TensorType(T2C_DTYPE_FP32, {2, 3, 4, 7}));
        EXPECT_EQ(n.FindOp("clip", 0) != nullptr, padding != 0);
        EXPECT_EQ(n.FindOp("mod", 0) != nullptr, padding == 2);
        EXPECT_EQ(n.FindOp("round", 0) != nullptr, mode == 1);
        EXPECT_EQ(n.FindOp("relu", 0) != nullptr, mode == 0);
        const t::FakeOp* mm = n.FindOp("matmul", 0);
        ASSERT_NE(mm, nullptr);
        EXPECT_EQ(n.ArgType(*mm, "y").shape, (Shape{2, 28, 30}));
      }
    }
  }
}

TEST(GridSampleTest, BicubicTapsPerPadding) {
  for (int64_t padding : {0, 1, 2}) {
    SCOPED_TRACE(padding);
    t::FakeNode n = Sampler(2, padding, false);
    ASSERT_TRUE(n.Lower(Decl("aten::grid_sampler"))) << n.error();
    EXPECT_NE(n.FindOp("floor", 0), nullptr);
    // Four taps per axis, each compared with the pixel indices (reflection adds a parity test).
    const int equals = padding == 2 ? 16 : 8;
    EXPECT_NE(n.FindOp("equal", equals - 1), nullptr);
    EXPECT_EQ(n.FindOp("equal", equals), nullptr);
    EXPECT_EQ(n.FindOp("clip", 0) != nullptr, padding != 0);
    const t::FakeOp* mm = n.FindOp("matmul", 0);
    ASSERT_NE(mm, nullptr);
    EXPECT_EQ(n.ArgType(*mm, "y").shape, (Shape{2, 28, 30}));
  }
}

TEST(GridSampleTest, Volumetric) {
  t::FakeNode vol("aten::grid_sampler");
  vol.Add(t::Value::Tensor({1, 2, 2, 3, 4})).Add(t::Value::Tensor({1, 5, 2, 2, 3}));
  vol.Add(t::Value::Int(0)).Add(t::Value::Int(1)).Add(t::Value::Bool(false));
  ASSERT_TRUE(vol.Lower(Decl("aten::grid_sampler"))) << vol.error();
  EXPECT_EQ(vol.planned(), TensorType(T2C_DTYPE_FP32, {1, 2, 5, 2, 2}));
  const t::FakeOp* mm = vol.FindOp("matmul", 0);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(vol.ArgType(*mm, "y").shape, (Shape{1, 20, 24}));
}

TEST(GridSampleTest, Refusals) {
  t::FakeNode cubic("aten::grid_sampler");
  cubic.Add(t::Value::Tensor({1, 1, 2, 3, 4})).Add(t::Value::Tensor({1, 2, 2, 2, 3}));
  cubic.Add(t::Value::Int(2)).Add(t::Value::Int(0)).Add(t::Value::Bool(false));
  EXPECT_FALSE(cubic.Infer(Decl("aten::grid_sampler")));
  EXPECT_NE(cubic.error().find("bicubic needs a 4-D input"), std::string::npos) << cubic.error();

  t::FakeNode bad("aten::grid_sampler");
  bad.Add(t::Value::Tensor({2, 3, 5, 6})).Add(t::Value::Tensor({2, 4, 7, 3}));
  bad.Add(t::Value::Int(0)).Add(t::Value::Int(0)).Add(t::Value::Bool(false));
  EXPECT_FALSE(bad.Infer(Decl("aten::grid_sampler")));
  EXPECT_NE(bad.error().find("does not fit input"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
